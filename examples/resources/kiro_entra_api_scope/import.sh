# <application object id>/scopes/<scope id>
terraform import kiro_entra_api_scope.completions 00000000-0000-0000-0000-000000000000/scopes/11111111-1111-1111-1111-111111111111
