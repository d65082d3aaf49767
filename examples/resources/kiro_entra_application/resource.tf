resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
  # requested_access_token_version = 2                  (the default; Kiro needs v2 tokens)
  # identifier_uri                 = "api://<client id>" (the default)
}

# What Kiro's identity provider settings ask for.
output "client_id" {
  value = kiro_entra_application.kiro.client_id
}

output "issuer_url" {
  value = kiro_entra_application.kiro.issuer_url
}
