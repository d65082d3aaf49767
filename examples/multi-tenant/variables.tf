variable "tenants" {
  description = "Each tenant's Entra tenant, identity, AWS account (as a profile of the shared AWS files), region and what the module does there."
  type = map(object({
    tenant_id         = string
    client_id         = string
    aws_profile       = string
    region            = string
    profile_name      = string
    domains           = optional(list(string), [])
    groups            = optional(list(string), [])
    users             = optional(list(string), [])
    subscription_plan = optional(string, "KIRO_PRO")
    token_rotation    = optional(string, "initial")
    route53_zone_id   = optional(string)
    verify_domains    = optional(bool, true)
  }))

  validation {
    condition     = alltrue([for name in ["contoso", "fabrikam", "northwind"] : contains(keys(var.tenants), name)])
    error_message = "tenants needs contoso, fabrikam and northwind: providers.tf has one provider block of each kind per tenant."
  }
}

variable "client_secrets" {
  description = "Client secret per tenant (keys as in tenants); a tenant without one uses the provider's other credentials (ARM_* environment, OIDC, certificate, Azure CLI)."
  type        = map(string)
  default     = {}
  sensitive   = true
}
