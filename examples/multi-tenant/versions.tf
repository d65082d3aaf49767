# Three tenants side by side, each its own Entra tenant and AWS account: one
# aliased kiro provider (and aws provider, for Route 53) per tenant in
# providers.tf, and one call of ../modules/kiro-entra per tenant in
# <tenant>.tf. A tenant's objects are planned and applied with its own
# credentials only: a change in one file plans changes only in that module,
# and one tenant's bad credentials fail only that tenant.
#
# Removing a tenant: delete its <tenant>.tf and apply (its objects are
# destroyed with its still-configured providers), then remove its provider
# blocks and its entry in var.tenants.
#
# Credentials: var.tenants names each tenant's Entra tenant, client id, AWS
# profile (shared credentials file) and region; var.client_secrets holds the
# client secrets (sensitive). Endpoints and the DNS resolver come from the
# environment (KIRO_ENDPOINT_*, KIRO_DNS_RESOLVER), as for examples/complete.

terraform {
  required_version = ">= 1.11"

  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
    aws = {
      source = "hashicorp/aws"
    }
  }
}
