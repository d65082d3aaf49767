terraform {
  required_providers {
    kiro = {
      source = "kiro-entra/kiro"
    }
  }
}

provider "kiro" {
  tenant_id = "00000000-0000-0000-0000-000000000000" # or ARM_TENANT_ID
  client_id = "11111111-1111-1111-1111-111111111111" # or ARM_CLIENT_ID
  # client_secret from ARM_CLIENT_SECRET
  region = "us-east-1" # Kiro profile region (or AWS_REGION)
}

# Several tenants: one aliased block per tenant, and `provider = kiro.contoso`
# on the resources that belong to it. Nothing is shared between blocks.
provider "kiro" {
  alias     = "contoso"
  tenant_id = "22222222-2222-2222-2222-222222222222"
  client_id = "33333333-3333-3333-3333-333333333333"
  region    = "eu-central-1"
}
