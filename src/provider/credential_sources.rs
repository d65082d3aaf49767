//! Which Entra credential the provider signs in with: azuread's sources, tried in azuread's
//! order (go-azure-sdk `auth.NewAuthorizerFromCredentials`): client certificate, client
//! secret, OIDC token, Azure DevOps OIDC, GitHub Actions OIDC, managed identity, Azure CLI.

use std::path::PathBuf;

use base64::Engine;
use url::Url;

use super::config::{EnvLookup, Found, Source};
use crate::entra::credentials::IMDS_TOKEN_URL;
use crate::entra::{EntraCredential, MsiEndpoint, OidcToken, Pkcs12Source};
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::secret::Secret;

/// A credential and a secret-free sentence saying where it was configured.
type Chosen = (EntraCredential, String);
/// `None`: the source is not configured; `Some(Err)`: configured, but unusable.
type Builder = fn(&Found, EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>>;

/// The sources in order of precedence.
const SOURCES: &[(&str, Builder)] = &[
    ("client certificate", certificate),
    ("client secret", client_secret),
    ("OIDC token", oidc_token),
    ("Azure DevOps OIDC", azure_devops),
    ("GitHub Actions OIDC", github),
    ("managed identity", managed_identity),
    ("Azure CLI", azure_cli),
];

/// The first configured source; with several, the choice is logged at INFO.
pub(super) fn choose(found: &Found, env: EnvLookup<'_>, diags: &mut Diagnostics) -> Option<Chosen> {
    let mut configured = SOURCES
        .iter()
        .filter_map(|(name, build)| build(found, env).map(|built| (*name, built)));
    // use_oidc asks for a federated token: falling back to the Azure CLI would hide a token
    // that never arrived (azuread would), so that is an error here.
    let fallback_hides_oidc = |name: &str| name == "Azure CLI" && uses_oidc(found);
    let Some((name, chosen)) = configured
        .next()
        .filter(|(name, _)| !fallback_hides_oidc(name))
    else {
        diags.push(nothing_configured(found));
        return None;
    };
    let others: Vec<&str> = configured.map(|(other, _)| other).collect();
    match chosen {
        Ok(chosen) => {
            if !others.is_empty() {
                tracing::info!(
                    "Entra sign-in uses the {name} ({}); also configured, but later in the \
                     order of precedence: {}",
                    chosen.1,
                    others.join(", ")
                );
            }
            Some(chosen)
        }
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

fn nothing_configured(found: &Found) -> Diagnostic {
    if uses_oidc(found) {
        return Diagnostic::error(
            "Missing OIDC token",
            "use_oidc is set, but none of oidc_token (ARM_OIDC_TOKEN), oidc_token_file_path \
             (ARM_OIDC_TOKEN_FILE_PATH, AZURE_FEDERATED_TOKEN_FILE with use_aks_workload_identity) \
             or oidc_request_url with oidc_request_token (GitHub Actions, Azure DevOps) is.",
        );
    }
    Diagnostic::error(
        "No Entra credentials",
        "Configure one of: client_certificate or client_certificate_path, client_secret or \
         client_secret_file_path, use_oidc with oidc_token, oidc_token_file_path or \
         oidc_request_url, use_aks_workload_identity, use_msi, or use_cli (the ARM_* environment \
         variables work too).",
    )
}

fn client_id(found: &Found, kind: &str) -> Result<String, Diagnostic> {
    found.get("client_id").map(|v| v.0.clone()).ok_or_else(|| {
        Diagnostic::error(
            "Missing client_id",
            format!(
                "Authenticating with {kind} needs client_id (or ARM_CLIENT_ID, or \
                 client_id_file_path): the application (client) id Terraform runs as."
            ),
        )
    })
}

fn certificate(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    let password = found
        .get("client_certificate_password")
        .map(|p| Secret::new(&p.0));
    let (pkcs12, source) = match found.get("client_certificate") {
        Some((b64, source)) => {
            let compact: String = b64.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact);
            let Ok(bytes) = bytes else {
                let problem = "The client certificate is not base64 (the PKCS#12 .pfx file's \
                               bytes, base64-encoded, e.g. `base64 -w0 cert.pfx`).";
                return Some(Err(source.error("Invalid client_certificate", problem)));
            };
            let what = source.describe("the inline client certificate");
            (Pkcs12Source::Inline(bytes), what)
        }
        None => {
            let (path, source) = found.get("client_certificate_path")?;
            let what = source.describe(&format!("the client certificate {path:?}"));
            (Pkcs12Source::Path(PathBuf::from(path)), what)
        }
    };
    Some(client_id(found, "a client certificate").map(|client_id| {
        let credential = EntraCredential::ClientCertificate {
            client_id,
            pkcs12,
            password,
        };
        (credential, source)
    }))
}

fn client_secret(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    let (secret, source) = found.get("client_secret")?;
    Some(client_id(found, "a client secret").map(|client_id| {
        let credential = EntraCredential::ClientSecret {
            client_id,
            secret: Secret::new(secret),
        };
        (credential, source.describe("a client secret"))
    }))
}

fn uses_oidc(found: &Found) -> bool {
    found.flag("use_oidc") || found.flag("use_aks_workload_identity")
}

fn oidc_token(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    if !uses_oidc(found) {
        return None;
    }
    let (token, source) = match (found.get("oidc_token"), found.get("oidc_token_file_path")) {
        (Some((t, source)), _) => (
            OidcToken::Inline(Secret::new(t)),
            source.describe("an OIDC token"),
        ),
        (None, Some((path, source))) => (
            OidcToken::File(PathBuf::from(path)),
            source.describe("an OIDC token file"),
        ),
        (None, None) => return None,
    };
    Some(oidc(found, token, source))
}

fn oidc(found: &Found, token: OidcToken, source: String) -> Result<Chosen, Diagnostic> {
    client_id(found, token.kind())
        .map(|client_id| (EntraCredential::Oidc { client_id, token }, source))
}

/// `oidc_request_url` and `oidc_request_token`, both set, with `use_oidc`.
fn token_request(found: &Found) -> Option<Result<(Url, Secret, &Source), Diagnostic>> {
    if !uses_oidc(found) {
        return None;
    }
    let (raw, source) = found.get("oidc_request_url")?;
    let (bearer, _) = found.get("oidc_request_token")?;
    Some(match crate::endpoint::check_service_url(raw) {
        Ok(url) => Ok((url, Secret::new(bearer), source)),
        Err(problem) => Err(source.error("Invalid oidc_request_url", &problem)),
    })
}

fn azure_devops(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    let (id, _) = found.get("ado_pipeline_service_connection_id")?;
    Some(token_request(found)?.and_then(|(url, bearer, source)| {
        let token = OidcToken::AzureDevOps {
            url,
            bearer,
            service_connection_id: id.clone(),
        };
        let what = format!("an Azure DevOps OIDC token for service connection {id}");
        oidc(found, token, source.describe(&what))
    }))
}

fn github(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    Some(token_request(found)?.and_then(|(url, bearer, source)| {
        let token = OidcToken::GitHub { url, bearer };
        oidc(found, token, source.describe("a GitHub Actions OIDC token"))
    }))
}

fn managed_identity(found: &Found, env: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    if !found.flag("use_msi") {
        return None;
    }
    let client_id = found.get("client_id").map(|v| v.0.clone());
    let who = match &client_id {
        Some(id) => format!("the user-assigned managed identity {id}"),
        None => "the system-assigned managed identity".to_string(),
    };
    let endpoint = match (
        found.get("msi_endpoint"),
        env("IDENTITY_ENDPOINT"),
        env("IDENTITY_HEADER"),
    ) {
        (Some((raw, source)), _, _) => match check_msi_url(raw) {
            Ok(url) => (
                MsiEndpoint::Imds(url),
                source.describe(&format!("{who} at {raw}")),
            ),
            Err(problem) => return Some(Err(source.error("Invalid msi_endpoint", &problem))),
        },
        (None, Some(raw), Some(header)) => match check_msi_url(&raw) {
            Ok(url) => (
                MsiEndpoint::AppService {
                    url,
                    header: Secret::new(header),
                },
                format!("{who} from App Service's IDENTITY_ENDPOINT {raw}"),
            ),
            Err(problem) => {
                let problem = format!("{problem} (from IDENTITY_ENDPOINT)");
                return Some(Err(Diagnostic::error("Invalid IDENTITY_ENDPOINT", problem)));
            }
        },
        _ => {
            let url = Url::parse(IMDS_TOKEN_URL).expect("static URL");
            (
                MsiEndpoint::Imds(url),
                format!("{who} from the Azure Instance Metadata Service"),
            )
        }
    };
    let credential = EntraCredential::ManagedIdentity {
        client_id,
        endpoint: endpoint.0,
    };
    Some(Ok((credential, endpoint.1)))
}

/// A managed identity endpoint: https, or plain http to a loopback or link-local
/// (169.254.0.0/16, where IMDS and App Service listen) address: it never leaves the host.
pub fn check_msi_url(raw: &str) -> Result<Url, String> {
    if let Ok(url) = Url::parse(raw)
        && url.scheme() == "http"
        && let Some(url::Host::Ipv4(ip)) = url.host()
        && ip.is_link_local()
    {
        let mut https = url.clone();
        https
            .set_scheme("https")
            .map_err(|_| format!("{raw:?} is not a valid URL"))?;
        return crate::endpoint::check_service_url(https.as_str()).map(|_| url);
    }
    crate::endpoint::check_service_url(raw).map_err(|problem| {
        format!("{problem} A managed identity endpoint may also be plain http to 169.254.0.0/16.")
    })
}

fn azure_cli(found: &Found, _: EnvLookup<'_>) -> Option<Result<Chosen, Diagnostic>> {
    found.flag("use_cli").then(|| {
        Ok((
            EntraCredential::AzureCli,
            "the Azure CLI (no other credential is configured)".to_string(),
        ))
    })
}
