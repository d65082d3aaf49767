module "northwind" {
  source    = "../modules/kiro-entra"
  providers = { kiro = kiro.northwind, aws = aws.northwind }

  display_name      = "Kiro"
  profile_name      = var.tenants["northwind"].profile_name
  domains           = var.tenants["northwind"].domains
  groups            = var.tenants["northwind"].groups
  users             = var.tenants["northwind"].users
  subscription_plan = var.tenants["northwind"].subscription_plan
  token_rotation    = var.tenants["northwind"].token_rotation
  route53_zone_id   = var.tenants["northwind"].route53_zone_id
  verify_domains    = var.tenants["northwind"].verify_domains
}

output "northwind" {
  description = "Northwind: what Kiro is given, the DNS records to publish, and what arrived in Kiro."
  value = {
    client_id     = module.northwind.client_id
    issuer_url    = module.northwind.issuer_url
    profile_arn   = module.northwind.profile_arn
    scim_endpoint = module.northwind.scim_endpoint
    dns_records   = module.northwind.dns_records
    kiro_groups   = module.northwind.kiro_groups
    kiro_users    = module.northwind.kiro_users
  }
}
