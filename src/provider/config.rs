//! The provider block, resolved: configuration values first, then the
//! environment variables the azuread and aws providers use.

use std::collections::HashMap;

use url::Url;

use crate::entra::cloud::Environment;
use crate::entra::credentials::EntraCredential;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::typed::ObjectReader;
use crate::framework::value::TfValue;

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

/// The string arguments: name, then the environment variables read, in order, when the
/// argument is not set (azuread's names and order, then HCP Terraform's workload identity token).
const STRING_ARGS: &[(&str, &[&str])] = &[
    ("tenant_id", &["ARM_TENANT_ID"]),
    ("client_id", &["ARM_CLIENT_ID"]),
    ("client_id_file_path", &["ARM_CLIENT_ID_FILE_PATH"]),
    ("client_secret", &["ARM_CLIENT_SECRET"]),
    ("client_secret_file_path", &["ARM_CLIENT_SECRET_FILE_PATH"]),
    ("client_certificate", &["ARM_CLIENT_CERTIFICATE"]),
    ("client_certificate_path", &["ARM_CLIENT_CERTIFICATE_PATH"]),
    (
        "client_certificate_password",
        &["ARM_CLIENT_CERTIFICATE_PASSWORD"],
    ),
    (
        "oidc_token",
        &["ARM_OIDC_TOKEN", "TFC_WORKLOAD_IDENTITY_TOKEN"],
    ),
    (
        "oidc_token_file_path",
        &[
            "ARM_OIDC_TOKEN_FILE_PATH",
            "TFC_WORKLOAD_IDENTITY_TOKEN_PATH",
        ],
    ),
    (
        "oidc_request_url",
        &[
            "ARM_OIDC_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "SYSTEM_OIDCREQUESTURI",
        ],
    ),
    (
        "oidc_request_token",
        &[
            "ARM_OIDC_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SYSTEM_ACCESSTOKEN",
        ],
    ),
    (
        "ado_pipeline_service_connection_id",
        &[
            "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
            "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID",
        ],
    ),
    ("msi_endpoint", &["ARM_MSI_ENDPOINT"]),
    ("environment", &["ARM_ENVIRONMENT"]),
    ("region", &["AWS_REGION", "AWS_DEFAULT_REGION"]),
    ("aws_profile", &["AWS_PROFILE"]),
];

/// The boolean arguments: name, environment variable, default.
const BOOL_ARGS: &[(&str, &str, bool)] = &[
    ("use_oidc", "ARM_USE_OIDC", false),
    (
        "use_aks_workload_identity",
        "ARM_USE_AKS_WORKLOAD_IDENTITY",
        false,
    ),
    ("use_msi", "ARM_USE_MSI", false),
    ("use_cli", "ARM_USE_CLI", true),
];

/// With `use_aks_workload_identity`, what AKS's workload identity webhook puts in the pod's
/// environment stands in for these arguments when they are not set.
const AKS_ARGS: &[(&str, &str)] = &[
    ("tenant_id", "AZURE_TENANT_ID"),
    ("client_id", "AZURE_CLIENT_ID"),
    ("oidc_token_file_path", "AZURE_FEDERATED_TOKEN_FILE"),
];

/// Arguments whose value may instead sit in a file (`<name>_file_path`), as in azuread.
const FILE_ARGS: &[(&str, &str)] = &[
    ("client_id", "client_id_file_path"),
    ("client_secret", "client_secret_file_path"),
];

/// The endpoint overrides: name in `endpoints`, environment variables.
const ENDPOINT_ARGS: [(&str, &[&str]); 3] = [
    ("graph", &["KIRO_ENDPOINT_GRAPH"]),
    ("login", &["KIRO_ENDPOINT_LOGIN"]),
    ("kiro", &["KIRO_ENDPOINT_KIRO"]),
];

/// Every argument read, with where each value came from.
pub(super) struct Found {
    strings: HashMap<&'static str, (String, Source)>,
    bools: HashMap<&'static str, bool>,
}

impl Found {
    pub(super) fn get(&self, name: &str) -> Option<&(String, Source)> {
        self.strings.get(name)
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }
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

    /// Reads every argument of the tables, then fills in AKS's variables and file contents.
    fn read_all(&mut self) -> Found {
        let mut found = Found {
            strings: HashMap::new(),
            bools: HashMap::new(),
        };
        for (name, env_names) in STRING_ARGS {
            if let Some(value) = self.string(name, env_names) {
                found.strings.insert(name, value);
            }
        }
        for (name, env_name, default) in BOOL_ARGS {
            let value = self.bool(name, env_name, *default);
            found.bools.insert(name, value);
        }
        if found.flag("use_aks_workload_identity") {
            self.fill_from_aks(&mut found);
        }
        for (name, file_arg) in FILE_ARGS {
            self.read_file_arg(&mut found, name, file_arg);
        }
        found
    }

    fn fill_from_aks(&mut self, found: &mut Found) {
        for (name, env_name) in AKS_ARGS {
            let Some(value) = (self.env)(env_name) else {
                continue;
            };
            match found.strings.get(name) {
                // As azuread: a tenant set both ways must agree.
                Some((set, source))
                    if *name == "tenant_id" && !set.eq_ignore_ascii_case(&value) =>
                {
                    self.diags.push(source.error(
                        "Conflicting tenant_id",
                        &format!(
                            "{set:?} differs from AZURE_TENANT_ID {value:?}, which AKS workload \
                             identity set; remove one, or turn use_aks_workload_identity off."
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    found
                        .strings
                        .insert(name, (value, Source::Env(env_name.to_string())));
                }
            }
        }
    }

    /// `<name>_file_path`: the file's trimmed content is the value; both set must agree.
    fn read_file_arg(&mut self, found: &mut Found, name: &'static str, file_arg: &str) {
        let Some((path, source)) = found.strings.get(file_arg).cloned() else {
            return;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().to_string(),
            Err(e) => {
                let problem = format!("Cannot read {path:?}: {e}.");
                self.diags
                    .push(source.error(&format!("Cannot read {file_arg}"), &problem));
                return;
            }
        };
        match found.strings.get(name) {
            Some((set, set_source)) if set.trim() != text => {
                let problem = format!(
                    "The file {path:?} named by {} holds another value than {}; remove one or \
                     make them match.",
                    source.location(),
                    set_source.location()
                );
                self.diags
                    .push(Diagnostic::error(format!("Conflicting {name}"), problem));
            }
            _ => {
                let from_file = Source::File(Box::new(source), path);
                found.strings.insert(name, (text, from_file));
            }
        }
    }

    fn endpoint(&mut self, name: &str, env_names: &[&str]) -> Option<Url> {
        let raw = match self.endpoints.get::<String>(name) {
            Ok(v) => v.into_known().map(|s| (s, None)),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
        .or_else(|| {
            env_names
                .iter()
                .find_map(|e| (self.env)(e).map(|s| (s, Some(*e))))
        })?;
        match check_endpoint(&raw.0) {
            Ok(url) => Some(url),
            Err(problem) => {
                let d = Diagnostic::error(format!("Invalid endpoint for {name}"), problem);
                self.diags.push(match raw.1 {
                    None => d.at(AttrPath::attr("endpoints").then_attr(name)),
                    Some(env_name) => Diagnostic {
                        detail: format!("{} (from {env_name})", d.detail),
                        ..d
                    },
                });
                None
            }
        }
    }

    fn endpoints(&mut self, found: &Found) -> Endpoints {
        let [graph, login, kiro] = ENDPOINT_ARGS;
        // AKS's webhook names the cloud's authority host; a login override still wins.
        let aks = found.flag("use_aks_workload_identity");
        let login_env: &[&str] = if aks {
            &["KIRO_ENDPOINT_LOGIN", "AZURE_AUTHORITY_HOST"]
        } else {
            login.1
        };
        Endpoints {
            graph: self.endpoint(graph.0, graph.1),
            login: self.endpoint(login.0, login_env),
            kiro: self.endpoint(kiro.0, kiro.1),
        }
    }
}

/// Where a value came from, for errors and the credential log line.
#[derive(Debug, Clone)]
pub(super) enum Source {
    Attribute(AttrPath),
    Env(String),
    /// Read from the file (path) named by another argument.
    File(Box<Source>, String),
}

impl Source {
    /// Where it was set: "the `client_secret` argument" or "ARM_CLIENT_SECRET".
    fn location(&self) -> String {
        match self {
            Source::Attribute(path) => format!("the `{path}` argument"),
            Source::Env(name) => name.clone(),
            Source::File(inner, path) => format!("the file {path:?} named by {}", inner.location()),
        }
    }

    /// `what` and where it was set, e.g. "a client secret from the `client_secret` argument".
    pub(super) fn describe(&self, what: &str) -> String {
        format!("{what} from {}", self.location())
    }

    pub(super) fn error(&self, summary: &str, problem: &str) -> Diagnostic {
        match self {
            Source::Attribute(path) => Diagnostic::error(summary, problem).at(path.clone()),
            other => Diagnostic::error(summary, format!("{problem} (from {})", other.location())),
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
    let found = r.read_all();
    let endpoints = r.endpoints(&found);
    let mut diags = r.diags;
    let environment = environment(&found, &mut diags);
    let tenant_id = tenant_id(&found, &mut diags);
    let credential = super::credential_sources::choose(&found, env, &mut diags);
    let value = |name: &str| found.get(name).map(|v| v.0.clone());
    match credential {
        Some((credential, credential_source)) if !diags.has_errors() => Ok(ProviderConfig {
            tenant_id,
            environment,
            credential,
            credential_source,
            region: value("region"),
            aws_profile: value("aws_profile"),
            endpoints,
        }),
        _ => Err(diags),
    }
}

fn environment(found: &Found, diags: &mut Diagnostics) -> Environment {
    let Some((name, source)) = found.get("environment") else {
        return Environment::Global;
    };
    Environment::parse(name).unwrap_or_else(|_| {
        diags.push(source.error(
            "Invalid environment",
            &format!(
                "{name:?} is not an Entra cloud; use \"global\", \"usgovernment\" or \"china\"."
            ),
        ));
        Environment::Global
    })
}

fn tenant_id(found: &Found, diags: &mut Diagnostics) -> String {
    match found.get("tenant_id") {
        Some((t, source)) => {
            if !crate::framework::validators::is_guid(t) {
                diags.push(source.error(
                    "Invalid tenant_id",
                    &format!("{t:?} is not a directory (tenant) id; it is a GUID, shown in Entra under Overview."),
                ));
            }
            t.clone()
        }
        None => {
            diags.push(Diagnostic::error(
                "Missing tenant_id",
                "Set tenant_id in the provider block or ARM_TENANT_ID: the Entra directory (tenant) id.",
            ));
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entra::OidcToken;
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
            "ARM_CLIENT_SECRET" => None,
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

    /// Every source configured at once, through the environment, as a CI job might have them.
    fn everything(name: &str) -> Option<String> {
        let value = match name {
            "ARM_TENANT_ID" => TENANT,
            "ARM_CLIENT_ID" => "c",
            "ARM_CLIENT_CERTIFICATE" => "cGZ4",
            "ARM_CLIENT_SECRET" => "s",
            "ARM_USE_OIDC" | "ARM_USE_MSI" => "true",
            "ARM_OIDC_TOKEN" => "jwt",
            "ACTIONS_ID_TOKEN_REQUEST_URL" => "https://gh.example/idtoken?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => "gh-bearer",
            "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID" => "sc-1",
            _ => return None,
        };
        Some(value.to_string())
    }

    /// azuread's order: certificate, secret, OIDC token, Azure DevOps, GitHub, managed
    /// identity, CLI; each step removes the source chosen before.
    #[test]
    fn precedence_follows_azuread() {
        let steps: [(&[&str], &str); 7] = [
            (&["ARM_CLIENT_CERTIFICATE"], "client certificate"),
            (&["ARM_CLIENT_SECRET"], "client secret"),
            (&["ARM_OIDC_TOKEN"], "OIDC federated token"),
            (
                &["ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID"],
                "Azure DevOps OIDC token",
            ),
            (
                &["ACTIONS_ID_TOKEN_REQUEST_URL", "ARM_USE_OIDC"],
                "GitHub Actions OIDC token",
            ),
            (&["ARM_USE_MSI"], "managed identity (IMDS)"),
            (&[], "Azure CLI"),
        ];
        let mut removed: Vec<&str> = Vec::new();
        for (variables, kind) in steps {
            let env = |name: &str| {
                (!removed.contains(&name))
                    .then(|| everything(name))
                    .flatten()
            };
            let c = resolve(&config(&[], None), &env).unwrap();
            assert_eq!(c.credential.kind(), kind, "after removing {removed:?}");
            removed.extend(variables);
        }
    }

    #[test]
    fn oidc_sources_need_use_oidc_and_the_request_pair() {
        let env = |name: &str| match name {
            "ARM_USE_OIDC" => None,
            other => everything(other),
        };
        let without = |skip: &'static [&'static str]| {
            move |name: &str| (!skip.contains(&name)).then(|| env(name)).flatten()
        };
        let c = resolve(
            &config(&[], None),
            &without(&["ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_SECRET"]),
        )
        .unwrap();
        assert_eq!(c.credential.kind(), "managed identity (IMDS)");
    }

    #[test]
    fn azure_devops_and_github_get_their_urls_and_bearers() {
        let ado = |name: &str| match name {
            "ARM_CLIENT_CERTIFICATE" | "ARM_CLIENT_SECRET" | "ARM_OIDC_TOKEN" => None,
            "ACTIONS_ID_TOKEN_REQUEST_URL" | "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => None,
            "SYSTEM_OIDCREQUESTURI" => Some("https://dev.azure.com/o/p/_apis/x/oidctoken".into()),
            "SYSTEM_ACCESSTOKEN" => Some("ado-bearer".into()),
            other => everything(other),
        };
        let c = resolve(&config(&[], None), &ado).unwrap();
        match c.credential {
            EntraCredential::Oidc {
                token:
                    OidcToken::AzureDevOps {
                        url,
                        bearer,
                        service_connection_id,
                    },
                ..
            } => {
                assert_eq!(url.host_str(), Some("dev.azure.com"));
                assert_eq!(bearer.expose(), "ado-bearer");
                assert_eq!(service_connection_id, "sc-1");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            c.credential_source.contains("SYSTEM_OIDCREQUESTURI"),
            "{}",
            c.credential_source
        );
        assert!(!c.credential_source.contains("ado-bearer"));
        let http_remote = |name: &str| match name {
            "ACTIONS_ID_TOKEN_REQUEST_URL" => Some("http://gh.example/idtoken".into()),
            "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID" => None,
            other => ado(other),
        };
        let diags = resolve(&config(&[], None), &http_remote).unwrap_err();
        let text = format!("{diags:?}");
        assert!(
            text.contains("Invalid oidc_request_url")
                && text.contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
            "{text}"
        );
    }

    #[test]
    fn aks_workload_identity_reads_the_webhook_variables() {
        let aks = |name: &str| match name {
            "ARM_USE_AKS_WORKLOAD_IDENTITY" => Some("true".into()),
            "AZURE_TENANT_ID" => Some(TENANT.into()),
            "AZURE_CLIENT_ID" => Some("aks-client".into()),
            "AZURE_FEDERATED_TOKEN_FILE" => {
                Some("/var/run/secrets/azure/tokens/azure-identity-token".into())
            }
            "AZURE_AUTHORITY_HOST" => Some("https://login.microsoftonline.us/".into()),
            _ => None,
        };
        let c = resolve(&config(&[], None), &aks).unwrap();
        assert_eq!(c.tenant_id, TENANT);
        assert_eq!(c.credential.client_id(), Some("aks-client"));
        assert_eq!(
            c.credential_source,
            "an OIDC token file from AZURE_FEDERATED_TOKEN_FILE"
        );
        assert_eq!(
            c.endpoints.login.unwrap().host_str(),
            Some("login.microsoftonline.us")
        );
        // Without the switch the variables mean nothing.
        let off = |name: &str| {
            (name != "ARM_USE_AKS_WORKLOAD_IDENTITY")
                .then(|| aks(name))
                .flatten()
        };
        assert!(resolve(&config(&[], None), &off).is_err());
        // A tenant set both ways must agree, as in azuread.
        let other = "22222222-2222-4222-8222-222222222222";
        let diags = resolve(&config(&[("tenant_id", other)], None), &aks).unwrap_err();
        assert!(format!("{diags:?}").contains("Conflicting tenant_id"));
    }

    #[test]
    fn hcp_terraform_workload_identity_token_is_an_oidc_token() {
        let tfc = |name: &str| match name {
            "ARM_USE_OIDC" => Some("true".into()),
            "ARM_CLIENT_ID" => Some("c".into()),
            "ARM_TENANT_ID" => Some(TENANT.into()),
            "TFC_WORKLOAD_IDENTITY_TOKEN_PATH" => Some("/tmp/tfc-token".into()),
            _ => None,
        };
        let c = resolve(&config(&[], None), &tfc).unwrap();
        assert_eq!(
            c.credential_source,
            "an OIDC token file from TFC_WORKLOAD_IDENTITY_TOKEN_PATH"
        );
        let both = |name: &str| match name {
            "TFC_WORKLOAD_IDENTITY_TOKEN" => Some("jwt".into()),
            other => tfc(other),
        };
        let c = resolve(&config(&[], None), &both).unwrap();
        assert_eq!(
            c.credential_source,
            "an OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN"
        );
    }

    #[test]
    fn client_id_and_secret_from_files_must_agree_with_the_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let id_file = dir.path().join("client-id");
        let secret_file = dir.path().join("client-secret");
        std::fs::write(&id_file, "c-from-file\n").unwrap();
        std::fs::write(&secret_file, "s3cret-from-file\n").unwrap();
        let files = [
            ("tenant_id", TENANT),
            ("client_id_file_path", id_file.to_str().unwrap()),
            ("client_secret_file_path", secret_file.to_str().unwrap()),
        ];
        let no_env = |_: &str| None;
        let c = resolve(&config(&files, None), &no_env).unwrap();
        match &c.credential {
            EntraCredential::ClientSecret { client_id, secret } => {
                assert_eq!(
                    (client_id.as_str(), secret.expose()),
                    ("c-from-file", "s3cret-from-file")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            c.credential_source.contains("client_secret_file_path"),
            "{}",
            c.credential_source
        );
        let mut clash = files.to_vec();
        clash.push(("client_secret", "different-secret"));
        let text = format!("{:?}", resolve(&config(&clash, None), &no_env).unwrap_err());
        assert!(text.contains("Conflicting client_secret"), "{text}");
        assert!(
            !text.contains("s3cret-from-file") && !text.contains("different-secret"),
            "{text}"
        );
        let missing = [
            ("tenant_id", TENANT),
            ("client_id", "c"),
            ("client_secret_file_path", "/nonexistent/secret"),
        ];
        let text = format!(
            "{:?}",
            resolve(&config(&missing, None), &no_env).unwrap_err()
        );
        assert!(
            text.contains("Cannot read client_secret_file_path"),
            "{text}"
        );
    }

    #[test]
    fn managed_identity_endpoints() {
        use crate::entra::MsiEndpoint;
        let msi = |extra: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                let base = [("ARM_TENANT_ID", TENANT), ("ARM_USE_MSI", "true")];
                base.iter()
                    .chain(extra)
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = resolve(&config(&[], None), &msi(&[])).unwrap();
        assert_eq!(
            c.credential,
            EntraCredential::ManagedIdentity {
                client_id: None,
                endpoint: MsiEndpoint::Imds(
                    Url::parse(crate::entra::credentials::IMDS_TOKEN_URL).unwrap()
                ),
            }
        );
        let app_service = msi(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41234/msi/token"),
            ("IDENTITY_HEADER", "h-secret"),
        ]);
        let c = resolve(&config(&[], None), &app_service).unwrap();
        assert!(matches!(
            c.credential,
            EntraCredential::ManagedIdentity {
                endpoint: MsiEndpoint::AppService { .. },
                ..
            }
        ));
        assert!(!c.credential_source.contains("h-secret"));
        for ok in [
            "http://169.254.169.254/metadata/identity/oauth2/token",
            "http://127.0.0.1:1/x",
            "https://msi.example/token",
        ] {
            assert!(
                super::super::credential_sources::check_msi_url(ok).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://10.0.0.4/token",
            "http://user:pw@169.254.169.254/",
            "ftp://169.254.169.254/",
        ] {
            assert!(
                super::super::credential_sources::check_msi_url(bad).is_err(),
                "{bad}"
            );
        }
    }
}
