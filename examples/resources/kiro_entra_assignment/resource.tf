resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
}

data "kiro_entra_group" "developers" {
  display_name = "Kiro Developers"
}

# Assigned users and groups can sign in to Kiro and are provisioned into it.
resource "kiro_entra_assignment" "developers" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_group.developers.object_id
  # app_role_id        = the template's "User" role (the default)
}
