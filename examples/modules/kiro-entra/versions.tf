# No provider block here: the caller passes its own, e.g.
#   providers = { kiro = kiro.contoso, aws = aws.contoso }
# hashicorp/aws publishes the domains' TXT records in Route 53 when a zone is
# given. Terraform configures every provider a module requires even when none
# of its resources are planned, so the caller's aws provider must be
# configurable without a zone too (see examples/complete and examples/multi-tenant).
terraform {
  # Write-only attributes (secret_token_wo) need 1.11.
  required_version = ">= 1.11"

  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
