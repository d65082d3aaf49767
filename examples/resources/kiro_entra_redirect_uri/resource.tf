resource "kiro_entra_application" "kiro" {
  display_name = "Kiro"
}

# "Mobile and desktop applications": the URIs the Kiro IDE signs in through.
resource "kiro_entra_redirect_uri" "kiro" {
  application_id = kiro_entra_application.kiro.object_id
  uri            = "kiro://kiro.oauth/callback"
}

resource "kiro_entra_redirect_uri" "loopback" {
  application_id = kiro_entra_application.kiro.object_id
  uri            = "http://localhost/oauth/callback"
  platform       = "public_client" # the default; or "web", "spa"
}
