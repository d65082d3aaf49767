data "kiro_entra_user" "alice" {
  user_principal_name = "alice@contoso.com"
  # or: object_id = "00000000-0000-0000-0000-000000000000"
}

output "alice_object_id" {
  value = data.kiro_entra_user.alice.object_id
}
