resource "kiro_domain_verification" "corp" {
  profile_arn = kiro_domain.corp.profile_arn
  domain_name = kiro_domain.corp.domain_name

  timeouts {
    create = "45m" # the default; DNS changes can take a while to be seen
  }
}

resource "kiro_domain" "corp" {
  profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  domain_name = "contoso.com"
}
