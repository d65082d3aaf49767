# The whole Entra ID -> Kiro guide in one apply: the non-gallery enterprise
# application Kiro signs in against, its API scopes and redirect URIs; the Kiro
# profile trusting the application, with the company domain (its TXT record
# published in Route 53, then verified); Entra's automatic provisioning into
# Kiro's SCIM endpoint with a token the provider mints itself (never in state);
# a group and a user assigned and provisioned on demand; and the group
# subscribed to Kiro. ../modules/kiro-entra is the same guide as a module.
#
# Credentials and endpoints come from the environment (ARM_TENANT_ID,
# ARM_CLIENT_ID, ARM_CLIENT_SECRET, the AWS credential chain and AWS_REGION,
# KIRO_ENDPOINT_*), so the same file runs against a real tenant and AWS
# account or the offline sandbox (see ../run-sandbox.sh, which passes the
# sandbox's group, user and domain as TF_VAR_*).
#
# The domain: give route53_zone_id and one apply publishes the TXT record and
# waits for Kiro to verify it. Without Route 53, apply with
# verify_domains = false, publish the domain_txt_record output with your DNS
# provider, then apply again with verify_domains = true.

terraform {
  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "kiro" {}

# Used only for the Route 53 record. Terraform configures it even when no zone
# is given; then it asks nothing of AWS (not even whose credentials these are),
# so the example also runs offline.
provider "aws" {
  skip_credentials_validation = var.route53_zone_id == null
  skip_requesting_account_id  = var.route53_zone_id == null
  skip_metadata_api_check     = var.route53_zone_id == null
}

variable "app_name" {
  description = "Name of the Entra enterprise application."
  type        = string
  default     = "Kiro"
}

resource "kiro_entra_application" "kiro" {
  display_name = var.app_name
  # requested_access_token_version = 2        (the default; Kiro needs v2 tokens)
  # identifier_uri                 = api://<client id>   (the default)
}

variable "kiro_group" {
  description = "The Entra group whose members use Kiro (display name)."
  type        = string
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
  description = "A user (outside the group) who uses Kiro too (user principal name)."
  type        = string
}

data "kiro_entra_user" "kiro" {
  user_principal_name = var.kiro_user
}

variable "company_domain" {
  description = "The domain people sign in with."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of company_domain, to publish its TXT record in; null to publish it yourself."
  type        = string
  default     = null
}

variable "verify_domains" {
  description = "Wait until Kiro has verified the domain (with no zone: after publishing domain_txt_record)."
  type        = bool
  default     = true
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

resource "aws_route53_record" "company" {
  count   = var.route53_zone_id == null ? 0 : 1
  zone_id = var.route53_zone_id
  name    = kiro_domain.company.dns_record_name
  type    = kiro_domain.company.dns_record_type
  ttl     = 300
  records = [kiro_domain.company.dns_record_value]
}

resource "kiro_domain_verification" "company" {
  count       = var.verify_domains ? 1 : 0
  profile_arn = kiro_domain.company.profile_arn
  domain_name = kiro_domain.company.domain_name
  depends_on  = [aws_route53_record.company]
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

output "domain_status" {
  description = "PENDING until the TXT record is seen, then VERIFIED."
  value       = var.verify_domains ? kiro_domain_verification.company[0].status : kiro_domain.company.status
}
