# <profile arn>|<USER or GROUP>|<Kiro principal id>
terraform import kiro_subscription.developers 'arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL|GROUP|9a8b7c6d-0000-0000-0000-000000000000'
