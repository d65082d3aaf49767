# Every plan checks the whole chain and warns, naming the step of the guide and
# the fix, when a link is broken: a scope disabled in the portal, the
# provisioning job in quarantine, someone assigned who never arrived in Kiro…
check "kiro_setup" {
  data "kiro_setup_check" "guide" {
    application = "00000000-0000-4000-8000-0000000000a1" # the client id (or object id)
    profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
    # domains    = ["example.com"]   (default: every domain of the profile)
    # principals = [<object ids>]    (default: everyone assigned to the application)
  }

  assert {
    condition     = data.kiro_setup_check.guide.ok
    error_message = data.kiro_setup_check.guide.summary
  }
}
