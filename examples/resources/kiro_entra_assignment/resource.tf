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

# The application's provisioning job (see kiro_entra_provisioning).
resource "kiro_entra_provisioning" "kiro" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/"
  kiro_scim_token {
    profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
  }
}

# Sent to Kiro during the apply rather than at the next provisioning cycle (40 minutes).
# Needs the provisioning job, so the assignment waits for it.
resource "kiro_entra_assignment" "dave" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_user.dave.object_id
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}
