resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
}

# The two scopes Kiro asks for, consentable by admins and users.
resource "kiro_entra_api_scope" "completions" {
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "codewhisperer:completions"
  admin_consent_display_name = "Kiro code completions"
  admin_consent_description  = "Lets Kiro request inline code completions for the signed-in user."
}

resource "kiro_entra_api_scope" "conversations" {
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "codewhisperer:conversations"
  type                       = "User" # "Admins and users" (the default); "Admin" = admins only
  admin_consent_display_name = "Kiro conversations"
  admin_consent_description  = "Lets Kiro hold chat conversations for the signed-in user."
}
