module "fabrikam" {
  source    = "../modules/kiro-entra"
  providers = { kiro = kiro.fabrikam, aws = aws.fabrikam }

  display_name      = "Kiro"
  profile_name      = var.tenants["fabrikam"].profile_name
  domains           = var.tenants["fabrikam"].domains
  groups            = var.tenants["fabrikam"].groups
  users             = var.tenants["fabrikam"].users
  subscription_plan = var.tenants["fabrikam"].subscription_plan
  token_rotation    = var.tenants["fabrikam"].token_rotation
  route53_zone_id   = var.tenants["fabrikam"].route53_zone_id
  verify_domains    = var.tenants["fabrikam"].verify_domains
}

output "fabrikam" {
  description = "Fabrikam: what Kiro is given, the DNS records to publish, and what arrived in Kiro."
  value = {
    client_id     = module.fabrikam.client_id
    issuer_url    = module.fabrikam.issuer_url
    profile_arn   = module.fabrikam.profile_arn
    scim_endpoint = module.fabrikam.scim_endpoint
    dns_records   = module.fabrikam.dns_records
    kiro_groups   = module.fabrikam.kiro_groups
    kiro_users    = module.fabrikam.kiro_users
  }
}
