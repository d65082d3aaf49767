resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
}

# The Kiro profile that trusts the application's v2 issuer.
resource "kiro_profile" "main" {
  name        = "kiro-main"
  description = "Kiro for Contoso engineering"
  issuer_url  = kiro_entra_application.kiro.issuer_url
  client_id   = kiro_entra_application.kiro.client_id
  tags = {
    team = "platform"
  }
}

output "scim_endpoint" {
  description = "The Tenant URL for Entra's automatic provisioning."
  value       = kiro_profile.main.scim_endpoint
}
