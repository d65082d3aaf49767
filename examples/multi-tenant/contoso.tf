module "contoso" {
  source    = "../modules/kiro-entra"
  providers = { kiro = kiro.contoso, aws = aws.contoso }

  display_name      = "Kiro"
  profile_name      = var.tenants["contoso"].profile_name
  domains           = var.tenants["contoso"].domains
  groups            = var.tenants["contoso"].groups
  users             = var.tenants["contoso"].users
  subscription_plan = var.tenants["contoso"].subscription_plan
  token_rotation    = var.tenants["contoso"].token_rotation
  route53_zone_id   = var.tenants["contoso"].route53_zone_id
  verify_domains    = var.tenants["contoso"].verify_domains
}

output "contoso" {
  description = "Contoso: what Kiro is given, the DNS records to publish, and what arrived in Kiro."
  value = {
    client_id     = module.contoso.client_id
    issuer_url    = module.contoso.issuer_url
    profile_arn   = module.contoso.profile_arn
    scim_endpoint = module.contoso.scim_endpoint
    dns_records   = module.contoso.dns_records
    kiro_groups   = module.contoso.kiro_groups
    kiro_users    = module.contoso.kiro_users
  }
}
