output "client_id" {
  description = "The application (client) id: give it to Kiro."
  value       = kiro_entra_application.this.client_id
}

output "issuer_url" {
  description = "The OpenID issuer Kiro trusts: `https://login.microsoftonline.com/<tenant>/v2.0`."
  value       = kiro_entra_application.this.issuer_url
}

output "application_object_id" {
  description = "Object id of the app registration."
  value       = kiro_entra_application.this.object_id
}

output "service_principal_id" {
  description = "Object id of the enterprise application (service principal)."
  value       = kiro_entra_application.this.service_principal_id
}

output "profile_arn" {
  description = "ARN of the Kiro profile."
  value       = kiro_profile.this.arn
}

output "scim_endpoint" {
  description = "Kiro's SCIM endpoint: the Tenant URL of Entra's automatic provisioning."
  value       = kiro_profile.this.scim_endpoint
}

output "dns_records" {
  description = "The TXT record to publish per domain, `{ name, type, value }`, ready for `aws_route53_record` (or any DNS provider) with `for_each`."
  value = {
    for key, d in kiro_domain.this : key => {
      name  = d.dns_record_name
      type  = d.dns_record_type
      value = d.dns_record_value
    }
  }
}

output "domain_status" {
  description = "Each domain's status in Kiro as of this apply: `PENDING`, `VERIFIED` or `FAILED` (`VERIFIED` once verification has waited for it)."
  value       = { for key, d in kiro_domain.this : key => try(kiro_domain_verification.this[key].status, d.status) }
}

output "provisioning" {
  description = "Entra's provisioning job: `{ job_id, status, last_cycle }`."
  value = {
    job_id     = local.provisioning.job_id
    status     = local.provisioning.status
    last_cycle = local.provisioning.last_cycle
  }
}

output "assignments" {
  description = "Each assigned group and user (keyed as given): `{ principal_type, principal_id, provisioning_result }`."
  value = {
    for key, a in kiro_entra_assignment.this : key => {
      principal_type      = a.principal_type
      principal_id        = a.principal_id
      provisioning_result = a.provisioning_result
    }
  }
}

output "subscriptions" {
  description = "Each subscribed group and user (keyed as given): `{ plan, status, principal_id }` (Kiro's id)."
  value = {
    for key, s in kiro_subscription.this : key => {
      plan         = s.plan
      status       = s.status
      principal_id = s.principal_id
    }
  }
}

output "kiro_groups" {
  description = "The groups as they arrived in Kiro (with provision_on_demand): `{ id, display_name, external_id, member_count }`, keyed as given."
  value = {
    for key, g in data.kiro_group.arrived : key => {
      id           = g.id
      display_name = g.display_name
      external_id  = g.external_id
      member_count = g.member_count
    }
  }
}

output "kiro_users" {
  description = "The users as they arrived in Kiro (with provision_on_demand): `{ id, user_name, external_id, active }`, keyed as given."
  value = {
    for key, u in data.kiro_user.arrived : key => {
      id          = u.id
      user_name   = u.user_name
      external_id = u.external_id
      active      = u.active
    }
  }
}
