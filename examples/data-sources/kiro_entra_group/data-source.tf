data "kiro_entra_group" "developers" {
  display_name = "Kiro Developers"
  # or: object_id = "00000000-0000-0000-0000-000000000000"
}

output "developer_user_ids" {
  value = data.kiro_entra_group.developers.member_user_ids
}
