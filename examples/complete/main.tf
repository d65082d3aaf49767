# The whole Entra ID -> Kiro setup, as far as the provider goes today:
# the non-gallery enterprise application Kiro signs in against.
#
# Credentials and endpoints come from the environment (ARM_TENANT_ID,
# ARM_CLIENT_ID, ARM_CLIENT_SECRET, KIRO_ENDPOINT_*), so the same file runs
# against a real tenant or the offline sandbox (see ../run-sandbox.sh).

terraform {
  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
  }
}

provider "kiro" {}

variable "app_name" {
  type    = string
  default = "Kiro"
}

resource "kiro_entra_application" "kiro" {
  display_name = var.app_name
  # requested_access_token_version = 2        (the default; Kiro needs v2 tokens)
  # identifier_uri                 = api://<client id>   (the default)
}

output "client_id" {
  description = "Give Kiro this as the application (client) id."
  value       = kiro_entra_application.kiro.client_id
}

output "issuer_url" {
  description = "Give Kiro this as the issuer URL."
  value       = kiro_entra_application.kiro.issuer_url
}

output "identifier_uri" {
  value = kiro_entra_application.kiro.identifier_uri
}

output "service_principal_id" {
  value = kiro_entra_application.kiro.service_principal_id
}
