# <profile arn>|<domain>, the domain written as in the configuration.
terraform import kiro_domain.corp 'arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL|contoso.com'
