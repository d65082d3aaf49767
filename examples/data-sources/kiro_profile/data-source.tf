data "kiro_profile" "main" {
  name = "kiro-main"
  # or: arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
}

output "scim_endpoint" {
  value = data.kiro_profile.main.scim_endpoint
}
