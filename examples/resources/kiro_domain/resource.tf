resource "kiro_domain" "corp" {
  profile_arn = kiro_profile.main.arn
  domain_name = "contoso.com"
}

# Publish the verification record, here in Route 53.
resource "aws_route53_record" "kiro_verification" {
  zone_id = var.route53_zone_id
  name    = kiro_domain.corp.dns_record_name
  type    = kiro_domain.corp.dns_record_type
  ttl     = 300
  records = [kiro_domain.corp.dns_record_value]
}

resource "kiro_domain_verification" "corp" {
  profile_arn = kiro_domain.corp.profile_arn
  domain_name = kiro_domain.corp.domain_name
  depends_on  = [aws_route53_record.kiro_verification]
}

variable "route53_zone_id" {
  type = string
}

resource "kiro_profile" "main" {
  name       = "kiro-main"
  issuer_url = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
  client_id  = "11111111-1111-1111-1111-111111111111"
}
