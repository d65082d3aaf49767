# The whole Entra ID -> Kiro guide for one tenant, driven by variables: the
# enterprise application, its scopes and redirect URIs; the Kiro profile with
# its domains (published in Route 53 or by hand, then verified); Entra's
# automatic provisioning into Kiro; the groups and users assigned, provisioned
# and subscribed.

locals {
  # The two "Expose an API" scopes Kiro asks for.
  scopes = {
    completions   = "Kiro code completions"
    conversations = "Kiro conversations"
  }

  # Where the Kiro IDE receives sign-ins, then the caller's extra URIs.
  redirect_uris = merge(
    {
      for uri in ["kiro://kiro.oauth/callback", "http://localhost/oauth/callback"] :
      "public_client ${uri}" => { uri = uri, platform = "public_client" }
    },
    { for r in var.extra_redirect_uris : "${r.platform} ${r.uri}" => r },
  )

  # Everyone to assign, keyed as the caller wrote them (display name, UPN or
  # object id), so plans and outputs read in the caller's words.
  principals = merge(
    { for name, g in data.kiro_entra_group.by_name : name => { type = "GROUP", object_id = g.object_id } },
    { for id, g in data.kiro_entra_group.by_id : id => { type = "GROUP", object_id = g.object_id } },
    { for upn, u in data.kiro_entra_user.by_upn : upn => { type = "USER", object_id = u.object_id } },
    { for id, u in data.kiro_entra_user.by_id : id => { type = "USER", object_id = u.object_id } },
  )

  # Keys are known at plan time (they are the caller's strings), so for_each
  # over them never waits for the lookups.
  principal_keys = concat(var.groups, var.group_object_ids, var.users, var.user_object_ids)

  plan_of = { for key in local.principal_keys : key => lookup(var.subscription_plans, key, var.subscription_plan) }

  subscription_plans = { for key, plan in local.plan_of : key => plan if plan != null && plan != "NONE" }

  domains = { for d in var.domains : lower(d) => d }
}

# Entra ID: the non-gallery enterprise application.

resource "kiro_entra_application" "this" {
  display_name = var.display_name
}

resource "kiro_entra_api_scope" "this" {
  for_each                   = local.scopes
  application_id             = kiro_entra_application.this.object_id
  value                      = "codewhisperer:${each.key}"
  admin_consent_display_name = each.value
  admin_consent_description  = "Lets Kiro use ${each.value} for the signed-in user."
}

resource "kiro_entra_redirect_uri" "this" {
  for_each       = local.redirect_uris
  application_id = kiro_entra_application.this.object_id
  uri            = each.value.uri
  platform       = each.value.platform
}

# Kiro: the profile trusting the application's v2 issuer, and the domains.

resource "kiro_profile" "this" {
  name        = var.profile_name
  description = var.profile_description
  tags        = var.tags
  issuer_url  = kiro_entra_application.this.issuer_url
  client_id   = kiro_entra_application.this.client_id
}

resource "kiro_domain" "this" {
  for_each    = local.domains
  profile_arn = kiro_profile.this.arn
  domain_name = each.value
}

# Published only when a zone is given; otherwise the caller publishes
# `dns_records` with any DNS provider.
resource "aws_route53_record" "verification" {
  for_each = var.route53_zone_id == null ? {} : local.domains
  zone_id  = var.route53_zone_id
  name     = kiro_domain.this[each.key].dns_record_name
  type     = kiro_domain.this[each.key].dns_record_type
  ttl      = var.dns_record_ttl
  records  = [kiro_domain.this[each.key].dns_record_value]
}

# A plain apply cannot wait for a record it prints only at the end: without a
# zone, apply once with verify_domains = false, publish, then apply with true.
resource "kiro_domain_verification" "this" {
  for_each    = var.verify_domains ? local.domains : {}
  profile_arn = kiro_domain.this[each.key].profile_arn
  domain_name = kiro_domain.this[each.key].domain_name
  depends_on  = [aws_route53_record.verification]

  timeouts {
    create = var.domain_verification_timeout
  }
}

# Entra's automatic provisioning into Kiro's SCIM endpoint. The token mode picks
# the secret's form; the provider's rules across the secret arguments wait while
# the mode is not known yet (as in `terraform validate`), so one resource serves
# both modes, and switching mode later is an in-place update.
resource "kiro_entra_provisioning" "this" {
  service_principal_id = kiro_entra_application.this.service_principal_id
  tenant_url           = kiro_profile.this.scim_endpoint
  enabled              = var.provisioning_enabled
  sync_scope           = var.provisioning_scope

  secret_token_wo = var.scim_token_mode == "write_only" ? var.scim_token : null
  # A number that changes whenever token_rotation does.
  secret_token_wo_version = var.scim_token_mode == "write_only" ? parseint(substr(sha256(var.token_rotation), 0, 12), 16) : null

  dynamic "kiro_scim_token" {
    for_each = var.scim_token_mode == "minted" ? [1] : []
    content {
      profile_arn = kiro_profile.this.arn
      rotation_triggers = {
        rotation = var.token_rotation
      }
    }
  }

  lifecycle {
    # Here rather than as a validation of scim_token: Terraform does not evaluate validation
    # rules that read an ephemeral variable.
    precondition {
      condition     = var.scim_token_mode != "write_only" || var.scim_token != null
      error_message = "scim_token_mode = \"write_only\" needs scim_token."
    }
  }
}

locals {
  provisioning = kiro_entra_provisioning.this
}

# Who may sign in, provisioned into Kiro during the apply.

data "kiro_entra_group" "by_name" {
  for_each     = toset(var.groups)
  display_name = each.value
}

data "kiro_entra_group" "by_id" {
  for_each  = toset(var.group_object_ids)
  object_id = each.value
}

data "kiro_entra_user" "by_upn" {
  for_each            = toset(var.users)
  user_principal_name = each.value
}

data "kiro_entra_user" "by_id" {
  for_each  = toset(var.user_object_ids)
  object_id = each.value
}

resource "kiro_entra_assignment" "this" {
  for_each             = toset(local.principal_keys)
  service_principal_id = kiro_entra_application.this.service_principal_id
  principal_id         = local.principals[each.key].object_id
  provision_on_demand  = var.provision_on_demand
  depends_on           = [kiro_entra_provisioning.this]
}

# Subscriptions find each principal by the Entra object id that provisioning
# copied into externalId (waiting until SCIM has delivered it).
resource "kiro_subscription" "this" {
  for_each       = local.subscription_plans
  profile_arn    = kiro_profile.this.arn
  principal_type = local.principals[each.key].type
  external_id    = local.principals[each.key].object_id
  plan           = each.value
  depends_on     = [kiro_entra_assignment.this]
}

# What arrived in Kiro (known during the apply only when provisioned on demand).

data "kiro_group" "arrived" {
  for_each    = var.provision_on_demand ? { for k, p in local.principals : k => p if p.type == "GROUP" } : {}
  profile_arn = kiro_profile.this.arn
  external_id = each.value.object_id
  depends_on  = [kiro_entra_assignment.this]
}

data "kiro_user" "arrived" {
  for_each    = var.provision_on_demand ? { for k, p in local.principals : k => p if p.type == "USER" } : {}
  profile_arn = kiro_profile.this.arn
  external_id = each.value.object_id
  depends_on  = [kiro_entra_assignment.this]
}
