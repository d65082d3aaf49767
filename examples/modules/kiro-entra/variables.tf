# The application in Entra ID.

variable "display_name" {
  description = "Name of the Entra enterprise application Kiro signs in against (app registration and enterprise application)."
  type        = string
  default     = "Kiro"

  validation {
    condition     = length(trimspace(var.display_name)) > 0 && length(var.display_name) <= 120
    error_message = "display_name must be 1 to 120 characters."
  }
}

variable "extra_redirect_uris" {
  description = "Redirect URIs beyond the two the Kiro IDE signs in through (kiro://kiro.oauth/callback and http://localhost/oauth/callback). `platform` is `public_client` (the default), `web` or `spa`."
  type = list(object({
    uri      = string
    platform = optional(string, "public_client")
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.extra_redirect_uris : contains(["public_client", "web", "spa"], r.platform)])
    error_message = "Each extra_redirect_uris platform must be public_client, web or spa."
  }
  validation {
    condition     = alltrue([for r in var.extra_redirect_uris : can(regex("^[A-Za-z][A-Za-z0-9+.-]*://", r.uri)) && length(r.uri) <= 256])
    error_message = "Each extra redirect URI needs a scheme (https://, kiro://, ...) and at most 256 characters."
  }
  validation {
    condition     = length(distinct([for r in var.extra_redirect_uris : "${r.platform} ${r.uri}"])) == length(var.extra_redirect_uris)
    error_message = "extra_redirect_uris lists the same URI twice on one platform."
  }
}

# Who uses Kiro.

variable "groups" {
  description = "Entra groups to assign, provision and subscribe, by display name (display names must be unique in the tenant; use `group_object_ids` otherwise). A group's direct members are provisioned with it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.groups : length(trimspace(g)) > 0])
    error_message = "Group display names must not be empty."
  }
  validation {
    condition     = length(distinct(var.groups)) == length(var.groups)
    error_message = "groups lists a group twice."
  }
}

variable "group_object_ids" {
  description = "Entra groups to assign, provision and subscribe, by object id."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.group_object_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))])
    error_message = "group_object_ids must be object ids (GUIDs)."
  }
}

variable "users" {
  description = "Entra users to assign, provision and subscribe, by user principal name (e.g. `alice@contoso.com`)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.users : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", u))])
    error_message = "users must be user principal names such as alice@contoso.com."
  }
  validation {
    condition     = length(distinct([for u in var.users : lower(u)])) == length(var.users)
    error_message = "users lists a user twice."
  }
}

variable "user_object_ids" {
  description = "Entra users to assign, provision and subscribe, by object id."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.user_object_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))])
    error_message = "user_object_ids must be object ids (GUIDs)."
  }
}

variable "subscription_plan" {
  description = "Kiro plan every assigned group and user is subscribed to: `KIRO_PRO`, `KIRO_PRO_PLUS` or `KIRO_POWER`; null subscribes nobody. `subscription_plans` overrides it per group or user."
  type        = string
  default     = "KIRO_PRO"

  validation {
    condition     = var.subscription_plan == null || contains(["KIRO_PRO", "KIRO_PRO_PLUS", "KIRO_POWER"], coalesce(var.subscription_plan, "-"))
    error_message = "subscription_plan must be KIRO_PRO, KIRO_PRO_PLUS, KIRO_POWER or null."
  }
}

variable "subscription_plans" {
  description = "Plan per group or user, keyed as they are given in `groups`, `users`, `group_object_ids` or `user_object_ids`: `KIRO_PRO`, `KIRO_PRO_PLUS`, `KIRO_POWER`, or `NONE` to assign and provision without subscribing."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for plan in values(var.subscription_plans) : contains(["KIRO_PRO", "KIRO_PRO_PLUS", "KIRO_POWER", "NONE"], plan)])
    error_message = "subscription_plans values must be KIRO_PRO, KIRO_PRO_PLUS, KIRO_POWER or NONE."
  }
  validation {
    condition     = alltrue([for key in keys(var.subscription_plans) : contains(concat(var.groups, var.group_object_ids, var.users, var.user_object_ids), key)])
    error_message = "Each subscription_plans key must be written as in groups, group_object_ids, users or user_object_ids."
  }
}

# Provisioning (Entra -> Kiro over SCIM).

variable "provisioning_enabled" {
  description = "Run Entra's automatic provisioning into Kiro (`false` saves the job paused)."
  type        = bool
  default     = true
}

variable "provisioning_scope" {
  description = "What provisioning sends to Kiro: `assigned` (the assigned users and groups, the portal's default) or `all` (every user and group of the tenant)."
  type        = string
  default     = "assigned"

  validation {
    condition     = contains(["assigned", "all"], var.provisioning_scope)
    error_message = "provisioning_scope must be assigned or all."
  }
}

variable "provision_on_demand" {
  description = "Provision each assigned group (with its direct members) and user during the apply instead of at the next provisioning cycle; also what lets the apply report what arrived in Kiro (`kiro_groups`, `kiro_users`)."
  type        = bool
  default     = true
}

variable "scim_token_mode" {
  description = "Where Entra's SCIM token comes from: `minted` (the provider creates it in Kiro and keeps only its id) or `write_only` (`scim_token`, sent to Entra and never stored in state or plan). Switching later updates the provisioning in place: Entra gets the new token after a passing Test Connection, and a minted token is then deleted."
  type        = string
  default     = "minted"

  validation {
    condition     = contains(["minted", "write_only"], var.scim_token_mode)
    error_message = "scim_token_mode must be minted or write_only."
  }
}

variable "scim_token" {
  description = "The Kiro SCIM token when `scim_token_mode = \"write_only\"` (ephemeral: never stored)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "token_rotation" {
  description = "Any new value rotates the SCIM token: a minted token is replaced (new token, Test Connection, switch, old one deleted); a write-only token is sent to Entra again."
  type        = string
  default     = "initial"

  validation {
    condition     = length(var.token_rotation) > 0
    error_message = "token_rotation must not be empty."
  }
}

# Kiro.

variable "profile_name" {
  description = "Name of the Kiro profile: a letter, then letters, digits, `_` or `-`; at most 100 characters; unique in the region."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_-]{0,99}$", var.profile_name))
    error_message = "profile_name must start with a letter and hold only letters, digits, _ or - (at most 100 characters)."
  }
}

variable "profile_description" {
  description = "Description of the Kiro profile."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of the Kiro profile."
  type        = map(string)
  default     = {}
}

variable "domains" {
  description = "Company domains people sign in with (e.g. `contoso.com`), added to the Kiro profile; each needs its TXT record (`dns_records`) published before Kiro verifies it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for d in var.domains : can(regex("^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$", d))])
    error_message = "domains must be domain names such as contoso.com (no scheme, no trailing dot)."
  }
  validation {
    condition     = length(distinct([for d in var.domains : lower(d)])) == length(var.domains)
    error_message = "domains lists a domain twice."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone to publish the domains' TXT records in (with the caller's `aws` provider) before verification waits; null publishes nothing (publish `dns_records` elsewhere)."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", coalesce(var.route53_zone_id, "-")))
    error_message = "route53_zone_id must be a hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
}

variable "dns_record_ttl" {
  description = "TTL in seconds of the TXT records published in Route 53."
  type        = number
  default     = 300

  validation {
    condition     = var.dns_record_ttl >= 60 && var.dns_record_ttl <= 86400
    error_message = "dns_record_ttl must be between 60 and 86400 seconds."
  }
}

variable "verify_domains" {
  description = "Wait until Kiro has verified every domain. With a Route 53 zone, leave it true. Without one, apply first with false, publish `dns_records`, then apply with true."
  type        = bool
  default     = true
}

variable "domain_verification_timeout" {
  description = "How long to wait for each domain's verification, e.g. `45m`."
  type        = string
  default     = "45m"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.domain_verification_timeout)) && length(var.domain_verification_timeout) > 0
    error_message = "domain_verification_timeout must be a duration such as 45m or 1h30m."
  }
}
