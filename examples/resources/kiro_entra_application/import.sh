# With the application's object id or its Application (client) ID.
terraform import kiro_entra_application.kiro 00000000-0000-0000-0000-000000000000
