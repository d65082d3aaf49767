//! The provider block, resolved: configuration values first, then the
//! environment variables the azuread and aws providers use.

use std::path::PathBuf;

use url::Url;

use crate::entra::cloud::Environment;
use crate::entra::credentials::{EntraCredential, OidcToken};
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::typed::ObjectReader;
use crate::framework::value::TfValue;
use crate::secret::Secret;

#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub graph: Option<Url>,
    pub login: Option<Url>,
    pub kiro: Option<Url>,
}

#[derive(Debug)]
pub struct ProviderConfig {
    pub tenant_id: String,
    pub environment: Environment,
    pub credential: EntraCredential,
    /// Where the credential came from, for errors: e.g. "a client secret from ARM_CLIENT_SECRET".
    pub credential_source: String,
    pub region: Option<String>,
    pub aws_profile: Option<String>,
    pub endpoints: Endpoints,
}

/// Looks up an environment variable; injected so tests need no process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Checks an endpoint override: a service URL (https anywhere, plain http only to loopback,
/// a host, no credentials or fragment) that is a base, so no query string either.
pub fn check_endpoint(raw: &str) -> Result<Url, String> {
    let url = crate::endpoint::check_service_url(raw)?;
    if url.query().is_some() {
        return Err(format!(
            "{raw:?} has a query string (?…); an endpoint is a base URL such as \
             https://graph.example.com."
        ));
    }
    Ok(url)
}

struct Resolver<'a> {
    config: ObjectReader<'a>,
    endpoints: ObjectReader<'a>,
    env: EnvLookup<'a>,
    diags: Diagnostics,
}

impl Resolver<'_> {
    /// The configured string, else the first set environment variable.
    fn string(&mut self, name: &str, env_names: &[&str]) -> Option<(String, Source)> {
        match self.config.get::<String>(name) {
            Ok(v) => {
                if let Some(s) = v.into_known() {
                    return Some((s, Source::Attribute(AttrPath::attr(name))));
                }
            }
            Err(d) => self.diags.push(d),
        }
        env_names
            .iter()
            .find_map(|e| (self.env)(e).map(|v| (v, Source::Env(e.to_string()))))
    }

    fn bool(&mut self, name: &str, env_name: &str, default: bool) -> bool {
        if let Ok(v) = self.config.get::<bool>(name)
            && let Some(b) = v.into_known()
        {
            return b;
        }
        match (self.env)(env_name).map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "true" || v == "1" => true,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) => {
                self.diags.error(
                    format!("Invalid {env_name}"),
                    format!("{env_name}={v:?} is not a boolean; use true or false."),
                );
                default
            }
            None => default,
        }
    }

    fn endpoint(&mut self, name: &str, env_name: &str) -> Option<Url> {
        let raw = match self.endpoints.get::<String>(name) {
            Ok(v) => v.into_known().map(|s| (s, true)),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
        .or_else(|| (self.env)(env_name).map(|s| (s, false)))?;
        match check_endpoint(&raw.0) {
            Ok(url) => Some(url),
            Err(problem) => {
                let d = Diagnostic::error(format!("Invalid endpoint for {name}"), problem);
                self.diags.push(if raw.1 {
                    d.at(AttrPath::attr("endpoints").then_attr(name))
                } else {
                    Diagnostic {
                        detail: format!("{} (from {env_name})", d.detail),
                        ..d
                    }
                });
                None
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Source {
    Attribute(AttrPath),
    Env(String),
}

impl Source {
    /// `what` and where it was set, e.g. "a client secret from the `client_secret` argument".
    fn describe(&self, what: &str) -> String {
        match self {
            Source::Attribute(path) => format!("{what} from the `{path}` argument"),
            Source::Env(name) => format!("{what} from {name}"),
        }
    }

    fn error(&self, summary: &str, problem: &str) -> Diagnostic {
        match self {
            Source::Attribute(path) => Diagnostic::error(summary, problem).at(path.clone()),
            Source::Env(name) => Diagnostic::error(summary, format!("{problem} (from {name})")),
        }
    }
}

/// Resolves the provider block against the environment.
pub fn resolve(config: &TfValue, env: EnvLookup<'_>) -> Result<ProviderConfig, Diagnostics> {
    static NULL: TfValue = TfValue::Null;
    let endpoints_value = config.get_attr("endpoints").unwrap_or(&NULL);
    let mut r = Resolver {
        config: ObjectReader::new(config),
        endpoints: ObjectReader::new(endpoints_value),
        env,
        diags: Diagnostics::new(),
    };

    let tenant_id = r.string("tenant_id", &["ARM_TENANT_ID"]);
    let client_id = r.string("client_id", &["ARM_CLIENT_ID"]);
    let client_secret = r.string("client_secret", &["ARM_CLIENT_SECRET"]);
    let cert_path = r.string("client_certificate_path", &["ARM_CLIENT_CERTIFICATE_PATH"]);
    let cert_password = r.string(
        "client_certificate_password",
        &["ARM_CLIENT_CERTIFICATE_PASSWORD"],
    );
    let use_oidc = r.bool("use_oidc", "ARM_USE_OIDC", false);
    let oidc_token = r.string("oidc_token", &["ARM_OIDC_TOKEN"]);
    let oidc_file = r.string("oidc_token_file_path", &["ARM_OIDC_TOKEN_FILE_PATH"]);
    let use_cli = r.bool("use_cli", "ARM_USE_CLI", true);
    let environment_raw = r.string("environment", &["ARM_ENVIRONMENT"]);
    let region = r
        .string("region", &["AWS_REGION", "AWS_DEFAULT_REGION"])
        .map(|v| v.0);
    let aws_profile = r.string("aws_profile", &["AWS_PROFILE"]).map(|v| v.0);
    let endpoints = Endpoints {
        graph: r.endpoint("graph", "KIRO_ENDPOINT_GRAPH"),
        login: r.endpoint("login", "KIRO_ENDPOINT_LOGIN"),
        kiro: r.endpoint("kiro", "KIRO_ENDPOINT_KIRO"),
    };
    let mut diags = r.diags;

    let environment = match &environment_raw {
        None => Environment::Global,
        Some((name, source)) => Environment::parse(name).unwrap_or_else(|_| {
            diags.push(source.error(
                "Invalid environment",
                &format!(
                    "{name:?} is not an Entra cloud; use \"global\", \"usgovernment\" or \"china\"."
                ),
            ));
            Environment::Global
        }),
    };

    let tenant_id = match tenant_id {
        Some((t, source)) => {
            if !crate::framework::validators::is_guid(&t) {
                diags.push(source.error(
                    "Invalid tenant_id",
                    &format!("{t:?} is not a directory (tenant) id; it is a GUID, shown in Entra under Overview."),
                ));
            }
            t
        }
        None => {
            diags.push(Diagnostic::error(
                "Missing tenant_id",
                "Set tenant_id in the provider block or ARM_TENANT_ID: the Entra directory (tenant) id.",
            ));
            String::new()
        }
    };

    let need_client_id = |diags: &mut Diagnostics, kind: &str| -> String {
        match &client_id {
            Some((id, _)) => id.clone(),
            None => {
                diags.push(Diagnostic::error(
                    "Missing client_id",
                    format!("Authenticating with {kind} needs client_id (or ARM_CLIENT_ID): the application (client) id Terraform runs as."),
                ));
                String::new()
            }
        }
    };

    let credential = if use_oidc {
        let client_id = need_client_id(&mut diags, "OIDC");
        let token = match (oidc_token, oidc_file) {
            (Some((t, source)), _) => Some((
                OidcToken::Inline(Secret::new(t)),
                source.describe("an OIDC token"),
            )),
            (None, Some((path, source))) => Some((
                OidcToken::File(PathBuf::from(path)),
                source.describe("an OIDC token file"),
            )),
            (None, None) => {
                diags.error(
                    "Missing OIDC token",
                    "use_oidc is set, but neither oidc_token (ARM_OIDC_TOKEN) nor oidc_token_file_path (ARM_OIDC_TOKEN_FILE_PATH) is.",
                );
                None
            }
        };
        token.map(|(token, source)| (EntraCredential::Oidc { client_id, token }, source))
    } else if let Some((path, source)) = cert_path {
        let client_id = need_client_id(&mut diags, "a client certificate");
        let source = source.describe(&format!("the client certificate {path:?}"));
        Some((
            EntraCredential::ClientCertificate {
                client_id,
                pkcs12_path: PathBuf::from(path),
                password: cert_password.map(|p| Secret::new(p.0)),
            },
            source,
        ))
    } else if let Some((secret, source)) = client_secret {
        let client_id = need_client_id(&mut diags, "a client secret");
        Some((
            EntraCredential::ClientSecret {
                client_id,
                secret: Secret::new(secret),
            },
            source.describe("a client secret"),
        ))
    } else if use_cli {
        Some((
            EntraCredential::AzureCli,
            "the Azure CLI (no other credential is configured)".to_string(),
        ))
    } else {
        diags.error(
            "No Entra credentials",
            "Configure one of: client_secret, client_certificate_path, use_oidc with oidc_token or \
             oidc_token_file_path, or use_cli (the ARM_* environment variables work too).",
        );
        None
    };

    match credential {
        Some((credential, credential_source)) if !diags.has_errors() => Ok(ProviderConfig {
            tenant_id,
            environment,
            credential,
            credential_source,
            region,
            aws_profile,
            endpoints,
        }),
        _ => Err(diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::typed::ObjectBuilder;

    fn config(attrs: &[(&str, &str)], endpoints: Option<&[(&str, &str)]>) -> TfValue {
        let mut b = ObjectBuilder::new();
        for (k, v) in attrs {
            b = b.set(k, *v);
        }
        if let Some(e) = endpoints {
            let mut eb = ObjectBuilder::new();
            for (k, v) in e {
                eb = eb.set(k, *v);
            }
            b = b.set_raw("endpoints", eb.build());
        }
        b.build()
    }

    const TENANT: &str = "00000000-0000-4000-8000-000000000001";

    #[test]
    fn attributes_win_over_environment() {
        let env = |name: &str| match name {
            "ARM_TENANT_ID" => Some("11111111-1111-4111-8111-111111111111".to_string()),
            "ARM_CLIENT_SECRET" => Some("from-env".to_string()),
            "ARM_CLIENT_ID" => Some("c".to_string()),
            _ => None,
        };
        let c = resolve(&config(&[("tenant_id", TENANT)], None), &env).unwrap();
        assert_eq!(c.tenant_id, TENANT);
        match c.credential {
            EntraCredential::ClientSecret { client_id, secret } => {
                assert_eq!(client_id, "c");
                assert_eq!(secret.expose(), "from-env");
            }
            other => panic!("expected a client secret, got {other:?}"),
        }
        assert_eq!(c.environment, Environment::Global);
    }

    /// A failed sign-in says which credential was used and where it was set, never its value.
    #[test]
    fn the_credential_source_names_the_argument_or_variable() {
        let no_env = |_: &str| None;
        let secret = config(
            &[
                ("tenant_id", TENANT),
                ("client_id", "c"),
                ("client_secret", "s3cr3t"),
            ],
            None,
        );
        let c = resolve(&secret, &no_env).unwrap();
        assert_eq!(
            c.credential_source,
            "a client secret from the `client_secret` argument"
        );
        let env = |name: &str| match name {
            "ARM_CLIENT_SECRET" => Some("s3cr3t".to_string()),
            "ARM_OIDC_TOKEN_FILE_PATH" => Some("/var/run/token".to_string()),
            _ => None,
        };
        let c = resolve(
            &config(&[("tenant_id", TENANT), ("client_id", "c")], None),
            &env,
        )
        .unwrap();
        assert_eq!(
            c.credential_source,
            "a client secret from ARM_CLIENT_SECRET"
        );
        let oidc_env = |name: &str| match name {
            "ARM_USE_OIDC" => Some("true".to_string()),
            other => env(other),
        };
        let c = resolve(
            &config(&[("tenant_id", TENANT), ("client_id", "c")], None),
            &oidc_env,
        )
        .unwrap();
        assert_eq!(
            c.credential_source,
            "an OIDC token file from ARM_OIDC_TOKEN_FILE_PATH"
        );
        let c = resolve(&config(&[("tenant_id", TENANT)], None), &no_env).unwrap();
        assert!(
            c.credential_source.contains("Azure CLI"),
            "{}",
            c.credential_source
        );
    }

    #[test]
    fn missing_tenant_and_bad_environment_are_reported() {
        let env = |name: &str| (name == "ARM_ENVIRONMENT").then(|| "mars".to_string());
        let diags = resolve(&config(&[("use_cli", "x")], None), &env).unwrap_err();
        let text = format!("{diags:?}");
        assert!(text.contains("Missing tenant_id"), "{text}");
        assert!(text.contains("ARM_ENVIRONMENT"), "{text}");
    }

    #[test]
    fn http_endpoint_refused_unless_loopback() {
        assert!(check_endpoint("http://127.0.0.1:8787/graph").is_ok());
        assert!(check_endpoint("http://localhost/login").is_ok());
        assert!(check_endpoint("http://[::1]:1/").is_ok());
        assert!(check_endpoint("https://graph.example.com").is_ok());
        assert!(check_endpoint("http://graph.example.com").is_err());
        assert!(check_endpoint("http://10.0.0.1").is_err());
        assert!(check_endpoint("ftp://127.0.0.1").is_err());
        assert!(check_endpoint("https://graph.example.com/#x").is_err());
        assert!(check_endpoint("https://graph.example.com/?a=b").is_err());
        assert!(check_endpoint("https://graph.example.com/v1/").is_ok());
        let env = |_: &str| None;
        let diags = resolve(
            &config(
                &[
                    ("tenant_id", TENANT),
                    ("client_id", "c"),
                    ("client_secret", "s"),
                ],
                Some(&[("graph", "http://graph.example.com")]),
            ),
            &env,
        )
        .unwrap_err();
        assert_eq!(
            diags.0[0].attribute,
            Some(AttrPath::attr("endpoints").then_attr("graph"))
        );
    }

    #[test]
    fn oidc_needs_a_token() {
        let env = |_: &str| None;
        let c = config(&[("tenant_id", TENANT), ("client_id", "c")], None);
        let mut with_oidc = c.clone();
        if let TfValue::Object(m) = &mut with_oidc {
            m.insert("use_oidc".into(), TfValue::Bool(true));
        }
        let diags = resolve(&with_oidc, &env).unwrap_err();
        assert!(format!("{diags:?}").contains("Missing OIDC token"));
        if let TfValue::Object(m) = &mut with_oidc {
            m.insert(
                "oidc_token_file_path".into(),
                TfValue::String("/var/run/token".into()),
            );
        }
        assert!(matches!(
            resolve(&with_oidc, &env).unwrap().credential,
            EntraCredential::Oidc {
                token: OidcToken::File(_),
                ..
            }
        ));
    }
}
