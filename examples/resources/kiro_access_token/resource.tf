resource "kiro_access_token" "scim" {
  profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  description = "Entra provisioning"

  # Change a value to rotate: the new token is made before the old one is deleted.
  rotation_triggers = {
    rotated = "2026-12"
  }

  lifecycle {
    create_before_destroy = true
  }
}
