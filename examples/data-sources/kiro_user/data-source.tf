data "kiro_user" "alice" {
  profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  external_id = "00000000-0000-0000-0000-000000000000" # the Entra object id
  # or: user_name = "alice@contoso.com"
}
