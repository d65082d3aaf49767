# <service principal id>
terraform import kiro_entra_provisioning.kiro 00000000-0000-0000-0000-000000000000
