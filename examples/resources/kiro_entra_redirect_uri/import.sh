# <application object id>/<platform>/<uri>
terraform import kiro_entra_redirect_uri.kiro '00000000-0000-0000-0000-000000000000/public_client/kiro://kiro.oauth/callback'
