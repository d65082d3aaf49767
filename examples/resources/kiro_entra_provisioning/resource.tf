# The guide's provisioning step. The provider mints Kiro's SCIM token itself, passes Test
# Connection with it and saves it in Entra: the token never appears in state or plan.
resource "kiro_entra_provisioning" "kiro" {
  service_principal_id = "00000000-0000-0000-0000-000000000000"                       # kiro_entra_application.kiro.service_principal_id
  tenant_url           = "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/" # kiro_profile.main.scim_endpoint

  kiro_scim_token {
    profile_arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL"
    # Change a value to rotate: new token, Test Connection, switch, then the old one is deleted.
    rotation_triggers = {
      rotated = "2026-12"
    }
  }

  # Optional: more mappings on top of the template's (externalId <- objectId is the default).
  attribute_mapping {
    object           = "user"
    target_attribute = "externalId"
    source_attribute = "objectId"
  }
  attribute_mapping {
    object           = "user"
    target_attribute = "displayName"
    expression       = "Join(\" \", [givenName], [surname])"
  }
}

# Or bring the token yourself, write-only (Terraform 1.11+): never stored in state or plan.
variable "scim_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "kiro_entra_provisioning" "byo_token" {
  service_principal_id    = "11111111-1111-1111-1111-111111111111"
  tenant_url              = "https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/"
  secret_token_wo         = var.scim_token
  secret_token_wo_version = 1 # bump to send a new token
}
