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

data "kiro_entra_user" "dave" {
  user_principal_name = "dave@contoso.com"
}

# Sent to Kiro during the apply rather than at the next provisioning cycle (40 minutes).
# Needs the application's provisioning job: declare it with kiro_entra_provisioning and
# make the assignment wait for it, e.g. depends_on = [kiro_entra_provisioning.kiro].
resource "kiro_entra_assignment" "dave" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_user.dave.object_id
  provision_on_demand  = true
}
