data "kiro_group" "developers" {
  profile_arn  = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  display_name = "Kiro Developers"
  # or: external_id = "00000000-0000-0000-0000-000000000000" (the Entra object id)
}
