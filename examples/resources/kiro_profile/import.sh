# The profile ARN.
terraform import kiro_profile.main arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL
