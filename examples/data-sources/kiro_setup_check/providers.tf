# Not shown in the docs: makes this directory a configuration that
# `terraform init` and `terraform validate` accept on their own.
terraform {
  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
  }
}
