# A user, by the Entra object id that provisioning copies into SCIM's externalId:
# the create waits until provisioning has delivered the user to Kiro.
resource "kiro_subscription" "alice" {
  profile_arn    = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  principal_type = "USER"
  external_id    = "00000000-0000-0000-0000-000000000000"
  plan           = "KIRO_PRO"
}

# A group, by Kiro's id.
resource "kiro_subscription" "developers" {
  profile_arn    = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  principal_type = "GROUP"
  principal_id   = "9a8b7c6d-0000-0000-0000-000000000000"
  plan           = "KIRO_PRO_PLUS"
}
