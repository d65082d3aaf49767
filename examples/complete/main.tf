# The whole Entra ID -> Kiro guide in one apply: the non-gallery enterprise
# application Kiro signs in against, its API scopes and redirect URIs; the Kiro
# profile trusting the application, with the company domain (verified); Entra's
# automatic provisioning into Kiro's SCIM endpoint with a token the provider
# mints itself (never in state); a group and a user assigned and provisioned on
# demand; and the group subscribed to Kiro.
#
# Credentials and endpoints come from the environment (ARM_TENANT_ID,
# ARM_CLIENT_ID, ARM_CLIENT_SECRET, the AWS credential chain and AWS_REGION,
# KIRO_ENDPOINT_*), so the same file runs against a real tenant and AWS
# account or the offline sandbox (see ../run-sandbox.sh). Publish the domain's
# TXT record with your DNS provider (see the kiro_domain docs for Route 53);
# the sandbox verifies domains by itself.

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

variable "kiro_group" {
  description = "The Entra group whose members use Kiro."
  type        = string
  default     = "Kiro Developers"
}

# "Expose an API": the two scopes Kiro asks for, for admins and users.
resource "kiro_entra_api_scope" "kiro" {
  for_each = {
    completions   = "Kiro code completions"
    conversations = "Kiro conversations"
  }
  application_id             = kiro_entra_application.kiro.object_id
  value                      = "codewhisperer:${each.key}"
  admin_consent_display_name = each.value
  admin_consent_description  = "Lets Kiro use ${each.value} for the signed-in user."
}

# "Mobile and desktop applications": where the Kiro IDE receives sign-ins.
resource "kiro_entra_redirect_uri" "kiro" {
  for_each       = toset(["kiro://kiro.oauth/callback", "http://localhost/oauth/callback"])
  application_id = kiro_entra_application.kiro.object_id
  uri            = each.value
}

data "kiro_entra_group" "kiro" {
  display_name = var.kiro_group
}

variable "kiro_user" {
  description = "A user (outside the group) who uses Kiro too."
  type        = string
  default     = "dave@kirosandbox.onmicrosoft.com"
}

data "kiro_entra_user" "kiro" {
  user_principal_name = var.kiro_user
}

variable "company_domain" {
  description = "The domain people sign in with."
  type        = string
  default     = "kirosandbox.example"
}

# Kiro: the profile trusting the application's v2 issuer.
resource "kiro_profile" "kiro" {
  name       = "kiro"
  issuer_url = kiro_entra_application.kiro.issuer_url
  client_id  = kiro_entra_application.kiro.client_id
}

resource "kiro_domain" "company" {
  profile_arn = kiro_profile.kiro.arn
  domain_name = var.company_domain
}

resource "kiro_domain_verification" "company" {
  profile_arn = kiro_domain.company.profile_arn
  domain_name = kiro_domain.company.domain_name
}

# Entra's automatic provisioning into Kiro: the provider mints the SCIM token,
# passes Test Connection, saves it in Entra and keeps only its id; users'
# externalId comes from their object id; the mappings Kiro rejects are removed.
resource "kiro_entra_provisioning" "kiro" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  tenant_url           = kiro_profile.kiro.scim_endpoint

  kiro_scim_token {
    profile_arn = kiro_profile.kiro.arn
    rotation_triggers = {
      rotated = "2026-12"
    }
  }
}

# "Users and groups": who may sign in to Kiro, provisioned into it on demand
# (the group with its direct members) instead of waiting for the next cycle.
resource "kiro_entra_assignment" "group" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_group.kiro.object_id
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}

resource "kiro_entra_assignment" "user" {
  service_principal_id = kiro_entra_application.kiro.service_principal_id
  principal_id         = data.kiro_entra_user.kiro.object_id
  provision_on_demand  = true
  depends_on           = [kiro_entra_provisioning.kiro]
}

# Subscribe the group's people to Kiro: found by the Entra object id that
# provisioning copied into externalId.
resource "kiro_subscription" "group" {
  profile_arn    = kiro_profile.kiro.arn
  principal_type = "GROUP"
  external_id    = data.kiro_entra_group.kiro.object_id
  plan           = "KIRO_PRO"
  depends_on     = [kiro_entra_assignment.group]
}

# What arrived in Kiro.
data "kiro_group" "provisioned" {
  profile_arn = kiro_profile.kiro.arn
  external_id = data.kiro_entra_group.kiro.object_id
  depends_on  = [kiro_entra_assignment.group]
}

data "kiro_user" "provisioned" {
  profile_arn = kiro_profile.kiro.arn
  external_id = data.kiro_entra_user.kiro.object_id
  depends_on  = [kiro_entra_assignment.user]
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

output "scopes" {
  value = sort([for s in kiro_entra_api_scope.kiro : s.value])
}

output "assigned_group_members" {
  value = length(data.kiro_entra_group.kiro.member_user_ids)
}

output "provisioning_job" {
  value = "${kiro_entra_provisioning.kiro.job_id} (${kiro_entra_provisioning.kiro.status})"
}

output "kiro_group" {
  description = "The group as it arrived in Kiro, with externalId = its Entra object id."
  value       = "${data.kiro_group.provisioned.display_name}: id ${data.kiro_group.provisioned.id}, externalId ${data.kiro_group.provisioned.external_id}, ${data.kiro_group.provisioned.member_count} members, subscription ${kiro_subscription.group.status}"
}

output "kiro_user" {
  description = "The user as it arrived in Kiro."
  value       = "${data.kiro_user.provisioned.user_name}: id ${data.kiro_user.provisioned.id}, externalId ${data.kiro_user.provisioned.external_id}"
}

output "provisioned_on_demand" {
  value = {
    group = kiro_entra_assignment.group.provisioning_result
    user  = kiro_entra_assignment.user.provisioning_result
  }
}

output "profile_arn" {
  value = kiro_profile.kiro.arn
}

output "scim_endpoint" {
  description = "Give Entra's automatic provisioning this as the Tenant URL."
  value       = kiro_profile.kiro.scim_endpoint
}

output "domain_txt_record" {
  description = "The TXT record that verifies the company domain."
  value       = "${kiro_domain.company.dns_record_name} ${kiro_domain.company.dns_record_type} ${kiro_domain.company.dns_record_value}"
}
