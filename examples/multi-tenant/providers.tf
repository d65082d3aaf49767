# One kiro provider and one aws provider per tenant. The aws providers publish
# Route 53 records only; with no zone they ask nothing of AWS.

provider "kiro" {
  alias         = "contoso"
  tenant_id     = var.tenants["contoso"].tenant_id
  client_id     = var.tenants["contoso"].client_id
  client_secret = lookup(var.client_secrets, "contoso", null)
  aws_profile   = var.tenants["contoso"].aws_profile
  region        = var.tenants["contoso"].region
}

provider "aws" {
  alias                       = "contoso"
  profile                     = var.tenants["contoso"].aws_profile
  region                      = var.tenants["contoso"].region
  skip_credentials_validation = var.tenants["contoso"].route53_zone_id == null
  skip_requesting_account_id  = var.tenants["contoso"].route53_zone_id == null
  skip_metadata_api_check     = var.tenants["contoso"].route53_zone_id == null
}

provider "kiro" {
  alias         = "fabrikam"
  tenant_id     = var.tenants["fabrikam"].tenant_id
  client_id     = var.tenants["fabrikam"].client_id
  client_secret = lookup(var.client_secrets, "fabrikam", null)
  aws_profile   = var.tenants["fabrikam"].aws_profile
  region        = var.tenants["fabrikam"].region
}

provider "aws" {
  alias                       = "fabrikam"
  profile                     = var.tenants["fabrikam"].aws_profile
  region                      = var.tenants["fabrikam"].region
  skip_credentials_validation = var.tenants["fabrikam"].route53_zone_id == null
  skip_requesting_account_id  = var.tenants["fabrikam"].route53_zone_id == null
  skip_metadata_api_check     = var.tenants["fabrikam"].route53_zone_id == null
}

provider "kiro" {
  alias         = "northwind"
  tenant_id     = var.tenants["northwind"].tenant_id
  client_id     = var.tenants["northwind"].client_id
  client_secret = lookup(var.client_secrets, "northwind", null)
  aws_profile   = var.tenants["northwind"].aws_profile
  region        = var.tenants["northwind"].region
}

provider "aws" {
  alias                       = "northwind"
  profile                     = var.tenants["northwind"].aws_profile
  region                      = var.tenants["northwind"].region
  skip_credentials_validation = var.tenants["northwind"].route53_zone_id == null
  skip_requesting_account_id  = var.tenants["northwind"].route53_zone_id == null
  skip_metadata_api_check     = var.tenants["northwind"].route53_zone_id == null
}
