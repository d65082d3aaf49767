//! Bad input never reaches a service: a table of invalid configurations across every resource,
//! data source and the provider block, each refused by `terraform validate` (literal values) or
//! `terraform plan` (values known only at plan: variables, `-var`), with one error on its own
//! attribute, no panic, and no request to the sandbox.
//!
//! The rows share two workspaces (one validated, one planned), one uniquely named block per
//! row; Terraform's JSON diagnostics carry the block's address and the source line they point
//! at, which places each diagnostic on its row and its attribute.
//!
//! `cargo test --test acceptance bad_input -- --nocapture` prints the table.

use serde_json::Value;

use crate::harness::Workspace;
use crate::kiro_fixtures::kiro_workspace;
use crate::sandbox::Sandbox;

const GUID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
const ARN: &str = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL";
const ISSUER: &str = "https://login.microsoftonline.com/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/v2.0";
const PROVIDER_ADDRESS: &str = "provider[\"registry.terraform.io/kiro-entra/kiro\"]";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Stage {
    Validate,
    Plan,
}

impl Stage {
    fn command(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Plan => "plan",
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Resource(&'static str),
    Data(&'static str),
    /// An aliased `provider "kiro"` block, used by one valid application so Terraform
    /// validates and configures it.
    Provider,
}

/// One invalid configuration: a block of `kind` with `body`, refused at `stage` on
/// `attribute` (a path such as `timeouts.create`). In a plan row, `VAR` in the body stands for
/// the row's own variable, given `value` with `-var`.
struct Row {
    label: &'static str,
    kind: Kind,
    body: String,
    attribute: &'static str,
    stage: Stage,
    value: Option<String>,
}

fn row(label: &'static str, kind: Kind, body: &str, attribute: &'static str) -> Row {
    Row {
        label,
        kind,
        body: body.to_string(),
        attribute,
        stage: Stage::Validate,
        value: None,
    }
}

fn resource(label: &'static str, ty: &'static str, body: &str, attribute: &'static str) -> Row {
    row(label, Kind::Resource(ty), body, attribute)
}

fn data(label: &'static str, ty: &'static str, body: &str, attribute: &'static str) -> Row {
    row(label, Kind::Data(ty), body, attribute)
}

fn provider(label: &'static str, body: &str, attribute: &'static str) -> Row {
    row(label, Kind::Provider, body, attribute)
}

impl Row {
    /// Refused only once the plan knows `value` (at validate the variable is unknown).
    fn at_plan(mut self, value: impl Into<String>) -> Row {
        self.stage = Stage::Plan;
        self.value = Some(value.into());
        self
    }

    /// Refused when `terraform plan` configures the provider (no variable involved).
    fn when_configured(mut self) -> Row {
        self.stage = Stage::Plan;
        self
    }
}

/// Where a row landed in `main.tf`.
struct Placed {
    address: String,
    variable: String,
    first_line: usize,
    lines: Vec<String>,
}

impl Placed {
    /// The line the attribute path is written on, or `None` when the row leaves it out (a
    /// missing argument, which Terraform reports on the block itself).
    fn attribute_line(&self, attribute: &str) -> Option<usize> {
        let mut from = 0;
        let mut found = None;
        for segment in attribute.split('.') {
            let at = self.lines[from..].iter().position(|line| {
                line.trim_start()
                    .strip_prefix(segment)
                    .is_some_and(|rest| rest.starts_with([' ', '=', '{']))
            })? + from;
            found = Some(self.first_line + at);
            from = at + 1;
        }
        found
    }
}

fn rows(sandbox_url: &str) -> Vec<Row> {
    let long = |n: usize| "x".repeat(n);
    let endpoints = format!(
        "endpoints {{\n    graph = \"{sandbox_url}/graph\"\n    login = \"{sandbox_url}/login\"\n    kiro  = \"{sandbox_url}/kiro\"\n  }}"
    );
    // A provider block that is valid but for `bad`, pointed at the sandbox so that anything
    // that slipped through would show up in its request counts.
    let credentials = format!("client_id = \"{GUID}\"\n  client_secret = \"s3cret\"");
    let provider_with =
        |bad: &str| format!("tenant_id = \"{GUID}\"\n  {credentials}\n  {bad}\n  {endpoints}");
    let scope = |bad: &str| {
        format!("application_id = \"{GUID}\"\n  value = \"codewhisperer:completions\"\n  {bad}")
    };
    let redirect = |uri: &str, platform: &str| {
        format!("application_id = \"{GUID}\"\n  uri = \"{uri}\"\n  platform = \"{platform}\"")
    };
    let provisioning = |bad: &str| {
        format!(
            "service_principal_id = \"{GUID}\"\n  tenant_url = \"https://scim.us-east-1.amazonaws.com/ABCDEFGHIJKL/scim/v2/\"\n  secret_token = \"t0ken\"\n  {bad}"
        )
    };
    let provisioning_url = |url: &str| {
        format!(
            "service_principal_id = \"{GUID}\"\n  tenant_url = \"{url}\"\n  secret_token = \"t0ken\""
        )
    };
    let mapping = |inner: &str| provisioning(&format!("attribute_mapping {{\n    {inner}\n  }}"));
    let profile = |bad: &str| {
        format!("name = \"kiro\"\n  issuer_url = \"{ISSUER}\"\n  client_id = \"{GUID}\"\n  {bad}")
    };
    let profile_issuer = |issuer: &str| {
        format!("name = \"kiro\"\n  issuer_url = \"{issuer}\"\n  client_id = \"{GUID}\"")
    };
    let domain =
        |arn: &str, name: &str| format!("profile_arn = \"{arn}\"\n  domain_name = \"{name}\"");
    let token = |arn: &str| format!("profile_arn = \"{arn}\"");
    let subscription = |arn: &str, rest: &str| format!("profile_arn = \"{arn}\"\n  {rest}");
    let timeouts = |operation: &str, duration: &str| {
        format!("timeouts {{\n    {operation} = \"{duration}\"\n  }}")
    };

    vec![
        // The provider block.
        provider("tenant_id a domain name", &format!("tenant_id = \"contoso.onmicrosoft.com\"\n  {credentials}\n  {endpoints}"), "tenant_id"),
        provider("client_id not a GUID", &format!("tenant_id = \"{GUID}\"\n  client_id = \"terraform\"\n  client_secret = \"s3cret\"\n  {endpoints}"), "client_id"),
        provider("environment not a cloud", &provider_with(r#"environment = "azurechina""#), "environment"),
        provider("region with spaces", &provider_with(r#"region = "US East 1""#), "region"),
        provider("region without dashes", &provider_with(r#"region = "useast1""#), "region"),
        provider("empty client_secret", &format!("tenant_id = \"{GUID}\"\n  client_id = \"{GUID}\"\n  client_secret = \"\"\n  {endpoints}"), "client_secret"),
        provider("empty client_certificate_path", &provider_with(r#"client_certificate_path = """#), "client_certificate_path"),
        provider("empty oidc_token_file_path", &provider_with(r#"oidc_token_file_path = """#), "oidc_token_file_path"),
        provider("empty aws_profile", &provider_with(r#"aws_profile = """#), "aws_profile"),
        provider("ftp graph endpoint", &format!("tenant_id = \"{GUID}\"\n  {credentials}\n  endpoints {{\n    graph = \"ftp://graph.example.com\"\n    login = \"{sandbox_url}/login\"\n  }}"), "endpoints.graph"),
        provider("plain http login endpoint to a remote host", &format!("tenant_id = \"{GUID}\"\n  {credentials}\n  endpoints {{\n    login = \"http://login.example.com\"\n    graph = \"{sandbox_url}/graph\"\n  }}"), "endpoints.login"),
        provider("kiro endpoint with a fragment", &format!("tenant_id = \"{GUID}\"\n  {credentials}\n  endpoints {{\n    kiro = \"https://kiro.example.com/#api\"\n    graph = \"{sandbox_url}/graph\"\n    login = \"{sandbox_url}/login\"\n  }}"), "endpoints.kiro"),
        provider("graph endpoint with a query", &format!("tenant_id = \"{GUID}\"\n  {credentials}\n  endpoints {{\n    graph = \"https://graph.example.com/?tenant=x\"\n    login = \"{sandbox_url}/login\"\n  }}"), "endpoints.graph"),
        // kiro_entra_application
        resource("empty display_name", "kiro_entra_application", r#"display_name = """#, "display_name"),
        resource("display_name too long", "kiro_entra_application", &format!("display_name = \"{}\"", long(257)), "display_name"),
        resource("token version 3", "kiro_entra_application", "display_name = \"Kiro\"\n  requested_access_token_version = 3", "requested_access_token_version"),
        resource("identifier_uri over http", "kiro_entra_application", "display_name = \"Kiro\"\n  identifier_uri = \"http://contoso.com/kiro\"", "identifier_uri"),
        resource("identifier_uri with a fragment", "kiro_entra_application", "display_name = \"Kiro\"\n  identifier_uri = \"api://kiro#x\"", "identifier_uri"),
        resource("create timeout in words", "kiro_entra_application", &format!("display_name = \"Kiro\"\n  {}", timeouts("create", "5 minutes")), "timeouts.create"),
        // kiro_entra_api_scope
        resource("scope application_id not a GUID", "kiro_entra_api_scope", "application_id = \"kiro\"\n  value = \"codewhisperer:completions\"", "application_id"),
        resource("scope value with a space", "kiro_entra_api_scope", &format!("application_id = \"{GUID}\"\n  value = \"codewhisperer completions\""), "value"),
        resource("scope value too long", "kiro_entra_api_scope", &format!("application_id = \"{GUID}\"\n  value = \"{}\"", long(121)), "value"),
        resource("scope type not an enum value", "kiro_entra_api_scope", &scope(r#"type = "Everyone""#), "type"),
        resource("admin consent description too long", "kiro_entra_api_scope", &scope(&format!("admin_consent_description = \"{}\"", long(1025))), "admin_consent_description"),
        resource("scope update timeout negative", "kiro_entra_api_scope", &scope(&timeouts("update", "-5m")), "timeouts.update"),
        // kiro_entra_redirect_uri
        resource("custom scheme on web", "kiro_entra_redirect_uri", &redirect("kiro://kiro.oauth/callback", "web"), "uri"),
        resource("http redirect to a remote host", "kiro_entra_redirect_uri", &redirect("http://contoso.com/callback", "public_client"), "uri"),
        resource("redirect with a fragment", "kiro_entra_redirect_uri", &redirect("https://contoso.com/callback#x", "spa"), "uri"),
        resource("platform not an enum value", "kiro_entra_redirect_uri", &redirect("https://contoso.com/callback", "desktop"), "platform"),
        // kiro_entra_assignment
        resource("principal_id an email", "kiro_entra_assignment", &format!("service_principal_id = \"{GUID}\"\n  principal_id = \"alice@contoso.com\""), "principal_id"),
        resource("empty service_principal_id", "kiro_entra_assignment", &format!("service_principal_id = \"\"\n  principal_id = \"{GUID}\""), "service_principal_id"),
        resource("app_role_id a role name", "kiro_entra_assignment", &format!("service_principal_id = \"{GUID}\"\n  principal_id = \"{GUID}\"\n  app_role_id = \"User\""), "app_role_id"),
        // kiro_entra_provisioning
        resource("ftp tenant_url", "kiro_entra_provisioning", &provisioning_url("ftp://scim.example.com/scim/v2"), "tenant_url"),
        resource("plain http tenant_url", "kiro_entra_provisioning", &provisioning_url("http://scim.example.com/scim/v2"), "tenant_url"),
        resource("tenant_url with a fragment", "kiro_entra_provisioning", &provisioning_url("https://scim.example.com/scim/v2#users"), "tenant_url"),
        resource("tenant_url without a scheme", "kiro_entra_provisioning", &provisioning_url("scim.example.com/scim/v2"), "tenant_url"),
        resource("sync_scope not an enum value", "kiro_entra_provisioning", &provisioning(r#"sync_scope = "everyone""#), "sync_scope"),
        resource("empty secret_token", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = \"https://scim.example.com/scim/v2\"\n  secret_token = \"\""), "secret_token"),
        resource("secret_token and secret_token_wo both set", "kiro_entra_provisioning", &provisioning("secret_token_wo = \"other\"\n  secret_token_wo_version = 1"), "secret_token_wo"),
        resource("two secrets at once", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = \"https://scim.example.com/scim/v2\"\n  secret_token = \"abc\"\n  secret_token_wo = \"def\"\n  secret_token_wo_version = 1"), "secret_token_wo"),
        resource("secret_token_wo without its version", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = \"https://scim.example.com/scim/v2\"\n  secret_token_wo = \"t0ken\""), "secret_token_wo_version"),
        resource("mapping object not an enum value", "kiro_entra_provisioning", &mapping("object = \"device\"\n    target_attribute = \"displayName\"\n    source_attribute = \"displayName\""), "attribute_mapping.object"),
        resource("mapping with source and expression", "kiro_entra_provisioning", &mapping("object = \"user\"\n    target_attribute = \"displayName\"\n    source_attribute = \"displayName\"\n    expression = \"Join(\\\" \\\", [givenName], [surname])\""), "attribute_mapping.expression"),
        resource("mapping expression that does not parse", "kiro_entra_provisioning", &mapping("object = \"user\"\n    target_attribute = \"displayName\"\n    expression = \"Join(\\\" \\\", [givenName]\""), "attribute_mapping.expression"),
        resource("minted token for a bad profile ARN", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = \"https://scim.example.com/scim/v2\"\n  kiro_scim_token {{\n    profile_arn = \"not-an-arn\"\n  }}"), "kiro_scim_token.profile_arn"),
        resource("service_principal_id a name", "kiro_entra_provisioning", &provisioning_url("https://scim.example.com/scim/v2").replace(GUID, "Kiro"), "service_principal_id"),
        resource("provisioning create timeout in days", "kiro_entra_provisioning", &provisioning(&timeouts("create", "1d")), "timeouts.create"),
        // kiro_profile
        resource("profile name starting with a digit", "kiro_profile", &profile("").replace(r#"name = "kiro""#, r#"name = "1kiro""#), "name"),
        resource("profile name too long", "kiro_profile", &profile("").replace(r#"name = "kiro""#, &format!("name = \"k{}\"", long(100))), "name"),
        resource("issuer over plain http", "kiro_profile", &profile_issuer("http://login.microsoftonline.com/x/v2.0"), "issuer_url"),
        resource("issuer with a fragment", "kiro_profile", &profile_issuer("https://login.microsoftonline.com/x/v2.0#x"), "issuer_url"),
        resource("profile client_id not a GUID", "kiro_profile", &format!("name = \"kiro\"\n  issuer_url = \"{ISSUER}\"\n  client_id = \"kiro-app\""), "client_id"),
        resource("profile tenant_id a domain", "kiro_profile", &profile(r#"tenant_id = "contoso.com""#), "tenant_id"),
        resource("reserved aws: tag key", "kiro_profile", &profile("tags = { \"aws:owner\" = \"platform\" }"), "tags"),
        resource("profile description too long", "kiro_profile", &profile(&format!("description = \"{}\"", long(257))), "description"),
        // kiro_domain
        resource("profile_arn not an ARN", "kiro_domain", &domain("not-an-arn", "contoso.com"), "profile_arn"),
        resource("profile_arn of another resource type", "kiro_domain", &domain("arn:aws:codewhisperer:us-east-1:123456789012:application/ABC", "contoso.com"), "profile_arn"),
        resource("domain as a URL", "kiro_domain", &domain(ARN, "https://contoso.com"), "domain_name"),
        resource("single-label domain", "kiro_domain", &domain(ARN, "localhost"), "domain_name"),
        // kiro_domain_verification
        resource("account id of 5 digits", "kiro_domain_verification", &domain("arn:aws:codewhisperer:us-east-1:12345:profile/ABC", "contoso.com"), "profile_arn"),
        resource("domain with an empty label", "kiro_domain_verification", &domain(ARN, "contoso..com"), "domain_name"),
        resource("verification timeout forever", "kiro_domain_verification", &format!("{}\n  {}", domain(ARN, "contoso.com"), timeouts("create", "forever")), "timeouts.create"),
        // kiro_access_token
        resource("an S3 bucket ARN", "kiro_access_token", &token("arn:aws:s3:::bucket"), "profile_arn"),
        resource("partition not AWS's", "kiro_access_token", &token("arn:azure:codewhisperer:us-east-1:123456789012:profile/ABC"), "profile_arn"),
        resource("partition and region disagree", "kiro_access_token", &token("arn:aws-cn:codewhisperer:us-east-1:123456789012:profile/ABC"), "profile_arn"),
        resource("token description too long", "kiro_access_token", &format!("{}\n  description = \"{}\"", token(ARN), long(257)), "description"),
        // kiro_subscription
        resource("region not a region", "kiro_subscription", &subscription("arn:aws:codewhisperer:useast1:123456789012:profile/ABC", &format!("principal_type = \"USER\"\n  external_id = \"{GUID}\"\n  plan = \"KIRO_PRO\"")), "profile_arn"),
        resource("principal_type not an enum value", "kiro_subscription", &subscription(ARN, &format!("principal_type = \"ROLE\"\n  external_id = \"{GUID}\"\n  plan = \"KIRO_PRO\"")), "principal_type"),
        resource("plan not an enum value", "kiro_subscription", &subscription(ARN, &format!("principal_type = \"USER\"\n  external_id = \"{GUID}\"\n  plan = \"KIRO_FREE\"")), "plan"),
        resource("principal_id empty with external_id", "kiro_subscription", &subscription(ARN, &format!("principal_type = \"USER\"\n  principal_id = \"\"\n  external_id = \"{GUID}\"\n  plan = \"KIRO_PRO\"")), "principal_id"),
        resource("neither principal_id nor external_id", "kiro_subscription", &subscription(ARN, "principal_type = \"USER\"\n  plan = \"KIRO_PRO\""), "principal_id"),
        resource("external_id an email", "kiro_subscription", &subscription(ARN, "principal_type = \"USER\"\n  external_id = \"alice@contoso.com\"\n  plan = \"KIRO_PRO\""), "external_id"),
        resource("principal_id with a space", "kiro_subscription", &subscription(ARN, "principal_type = \"GROUP\"\n  principal_id = \"kiro developers\"\n  plan = \"KIRO_PRO\""), "principal_id"),
        resource("subscription create timeout empty", "kiro_subscription", &format!("{}\n  {}", subscription(ARN, &format!("principal_type = \"USER\"\n  external_id = \"{GUID}\"\n  plan = \"KIRO_PRO\"")), timeouts("create", "")), "timeouts.create"),
        // Data sources.
        data("user object_id not a GUID", "kiro_entra_user", r#"object_id = "123""#, "object_id"),
        data("user principal name without @", "kiro_entra_user", r#"user_principal_name = "alice""#, "user_principal_name"),
        data("user principal name with a space", "kiro_entra_user", r#"user_principal_name = "alice smith@contoso.com""#, "user_principal_name"),
        data("user by both keys", "kiro_entra_user", &format!("user_principal_name = \"alice@contoso.com\"\n  object_id = \"{GUID}\""), "object_id"),
        data("group by no key", "kiro_entra_group", "", "display_name"),
        data("group object_id not a GUID", "kiro_entra_group", r#"object_id = "developers""#, "object_id"),
        data("empty group display_name", "kiro_entra_group", r#"display_name = "  ""#, "display_name"),
        data("profile ARN with no id", "kiro_profile", r#"arn = "arn:aws:codewhisperer:us-east-1:123456789012:profile/""#, "arn"),
        data("profile name with a space", "kiro_profile", r#"name = "my profile""#, "name"),
        data("kiro_user profile_arn an IAM role", "kiro_user", "profile_arn = \"arn:aws:iam::123456789012:role/kiro\"\n  user_name = \"alice@contoso.com\"", "profile_arn"),
        data("kiro_user external_id empty", "kiro_user", &format!("profile_arn = \"{ARN}\"\n  external_id = \"\""), "external_id"),
        data("kiro_group by both keys", "kiro_group", &format!("profile_arn = \"{ARN}\"\n  external_id = \"{GUID}\"\n  display_name = \"Developers\""), "display_name"),
        // Known only at plan: the value comes from a variable given with -var.
        resource("profile_arn from a variable", "kiro_domain", "profile_arn = VAR\n  domain_name = \"contoso.com\"", "profile_arn").at_plan("not-an-arn"),
        resource("S3 ARN from a variable", "kiro_access_token", "profile_arn = VAR", "profile_arn").at_plan("arn:aws:s3:::bucket"),
        resource("http tenant_url from a variable", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = VAR\n  secret_token = \"t0ken\""), "tenant_url").at_plan("http://scim.example.com/scim/v2"),
        resource("ftp tenant_url from a variable", "kiro_entra_provisioning", &format!("service_principal_id = \"{GUID}\"\n  tenant_url = VAR\n  secret_token = \"t0ken\""), "tenant_url").at_plan("ftp://scim.example.com/scim/v2"),
        resource("client_id from a variable", "kiro_profile", &format!("name = \"kiro\"\n  issuer_url = \"{ISSUER}\"\n  client_id = VAR"), "client_id").at_plan("not-a-guid"),
        resource("plan computed from a variable", "kiro_subscription", &format!("profile_arn = \"{ARN}\"\n  principal_type = \"GROUP\"\n  principal_id = \"{GUID}\"\n  plan = upper(VAR)"), "plan").at_plan("kiro_free"),
        resource("timeout from a variable", "kiro_entra_application", "display_name = \"Kiro\"\n  timeouts {\n    create = VAR\n  }", "timeouts.create").at_plan("soon"),
        data("object_id from a variable", "kiro_entra_user", "object_id = VAR", "object_id").at_plan("alice"),
        provider("tenant_id from a variable", &format!("tenant_id = VAR\n  {credentials}\n  {endpoints}"), "tenant_id").at_plan("contoso.onmicrosoft.com"),
        provider("endpoint from a variable", &format!("tenant_id = \"{GUID}\"\n  {credentials}\n  endpoints {{\n    graph = VAR\n    login = \"{sandbox_url}/login\"\n  }}"), "endpoints.graph").at_plan("http://graph.example.com"),
        // Missing alternatives the provider can only see when it resolves its configuration
        // (an environment variable could supply them): refused when `plan` configures it.
        provider("no tenant_id anywhere", &format!("{credentials}\n  {endpoints}"), "tenant_id").when_configured(),
        provider("use_oidc without a token", &format!("tenant_id = \"{GUID}\"\n  client_id = \"{GUID}\"\n  use_oidc = true\n  {endpoints}"), "oidc_token").when_configured(),
        provider("client_secret without client_id", &format!("tenant_id = \"{GUID}\"\n  client_secret = \"s3cret\"\n  {endpoints}"), "client_id").when_configured(),
    ]
}

/// Writes each row as its own uniquely named block (plus a variable for plan rows); returns
/// the configuration body and where each row went (lines counted from the body's start).
fn layout(rows: &[&Row]) -> (String, Vec<Placed>) {
    let mut body = String::new();
    let mut placed = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let name = format!("r{i:02}");
        let variable = format!("v{i:02}");
        if r.value.is_some() {
            body.push_str(&format!(
                "variable \"{variable}\" {{\n  type = string\n}}\n\n"
            ));
        }
        let inner = r.body.replace("VAR", &format!("var.{variable}"));
        let (header, address) = match r.kind {
            Kind::Resource(ty) => (
                format!("resource \"{ty}\" \"{name}\" {{"),
                format!("{ty}.{name}"),
            ),
            Kind::Data(ty) => (
                format!("data \"{ty}\" \"{name}\" {{"),
                format!("data.{ty}.{name}"),
            ),
            Kind::Provider => (
                format!("provider \"kiro\" {{\n  alias = \"{name}\""),
                format!("{PROVIDER_ADDRESS}.{name}"),
            ),
        };
        let block = format!("{header}\n  {inner}\n}}\n");
        let first_line = body.lines().count() + 1;
        placed.push(Placed {
            address,
            variable,
            first_line,
            lines: block.lines().map(str::to_string).collect(),
        });
        body.push_str(&block);
        if let Kind::Provider = r.kind {
            body.push_str(&format!(
                "resource \"kiro_entra_application\" \"{name}\" {{\n  provider     = kiro.{name}\n  display_name = \"Kiro\"\n}}\n"
            ));
        }
        body.push('\n');
    }
    (body, placed)
}

/// The error diagnostics of `terraform validate -json` or `terraform plan -json`.
fn error_diagnostics(stage: Stage, stdout: &str) -> Vec<Value> {
    let all: Vec<Value> = match stage {
        Stage::Validate => serde_json::from_str::<Value>(stdout)
            .unwrap_or_else(|e| panic!("validate -json: {e}\n{stdout}"))["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        Stage::Plan => stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["type"] == "diagnostic")
            .map(|m| m["diagnostic"].clone())
            .collect(),
    };
    all.into_iter()
        .filter(|d| d["severity"] == "error")
        .collect()
}

/// Requests that carried anything of the configuration to a service: everything but the
/// provider's sign-in, which it makes when it is configured (so that a failure names the
/// provider block), before any resource is checked.
fn total_requests(sandbox: &Sandbox) -> u64 {
    sandbox
        .counts()
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(op, _)| !op.starts_with("login."))
                .filter_map(|(_, n)| n.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

struct Refusal {
    summary: String,
    line: Option<usize>,
}

/// Runs `stage` over `rows` in one workspace and checks that each row is refused once, on its
/// attribute, and nothing else is reported. Returns each row's refusal and the requests the
/// sandbox saw.
fn refuse(sandbox: &Sandbox, stage: Stage, rows: &[&Row]) -> (Vec<Refusal>, u64) {
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (body, mut placed) = layout(rows);
    let ws: Workspace = kiro_workspace(sandbox, &tenant, &account, &body);
    // Before the body: required_providers and the default provider block.
    let main = ws.read("main.tf");
    let head = main.rfind(&body).expect("main.tf ends with the rows");
    let head_lines = main[..head].lines().count();
    for p in &mut placed {
        p.first_line += head_lines;
        assert_eq!(
            main.lines().nth(p.first_line - 1),
            p.lines.first().map(String::as_str),
            "layout places {} on line {}",
            p.address,
            p.first_line
        );
    }

    sandbox.reset_counts();
    let validated = ws.run(&["validate", "-json", "-no-color"]);
    let run = match stage {
        Stage::Validate => validated,
        Stage::Plan => {
            // Nothing here is known at validate: the checks wait for the values.
            let early = error_diagnostics(Stage::Validate, &validated.stdout);
            assert!(
                early.is_empty(),
                "values from variables are checked once known, not before:\n{early:#?}"
            );
            let mut args = vec!["plan".to_string(), "-json".into(), "-no-color".into()];
            for (r, p) in rows.iter().zip(&placed) {
                if let Some(value) = &r.value {
                    args.push("-var".into());
                    args.push(format!("{}={value}", p.variable));
                }
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ws.run(&args)
        }
    };
    let requests = total_requests(sandbox);
    let output = run.output();
    assert_ne!(
        run.status,
        Some(0),
        "{} refuses:\n{output}",
        stage.command()
    );
    for crash in ["panic", "Plugin did not respond", "plugin crashed"] {
        assert!(
            !output.contains(crash),
            "the provider does not crash ({crash}):\n{output}"
        );
    }

    let diagnostics = error_diagnostics(stage, &run.stdout);
    let mut refusals = Vec::new();
    for (r, p) in rows.iter().zip(&placed) {
        let mine: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| d["address"] == p.address.as_str())
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "{:?} ({}) is refused exactly once by {}:\n{mine:#?}\nall:\n{diagnostics:#?}",
            r.label,
            p.address,
            stage.command()
        );
        let d = mine[0];
        let text = format!("{} {}", d["summary"], d["detail"]);
        let line = d["range"]["start"]["line"].as_u64().map(|l| l as usize);
        let leaf = r.attribute.rsplit('.').next().unwrap_or(r.attribute);
        match p.attribute_line(r.attribute) {
            Some(expected) => assert_eq!(
                line,
                Some(expected),
                "{:?} is refused on {} (line {expected}): {d:#}",
                r.label,
                r.attribute
            ),
            // Left out of the block: Terraform points at the block, the text names it.
            None => {
                assert_eq!(line, Some(p.first_line), "{:?}: {d:#}", r.label);
                assert!(
                    text.contains(leaf),
                    "{:?}: the error names {}: {d:#}",
                    r.label,
                    r.attribute
                );
            }
        }
        refusals.push(Refusal {
            summary: d["summary"].as_str().unwrap_or_default().to_string(),
            line,
        });
    }
    let stray: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| !placed.iter().any(|p| d["address"] == p.address.as_str()))
        .collect();
    assert!(stray.is_empty(), "only the rows are refused:\n{stray:#?}");
    assert_eq!(
        requests,
        0,
        "{} sent requests: {:#}",
        stage.command(),
        sandbox.counts()
    );
    (refusals, requests)
}

#[test]
fn bad_input_is_refused_on_its_attribute_before_any_request() {
    let sandbox = Sandbox::start();
    let rows = rows(&sandbox.url);
    assert!(rows.len() >= 60, "{} rows", rows.len());
    for kind in [
        "kiro_entra_application",
        "kiro_entra_api_scope",
        "kiro_entra_redirect_uri",
        "kiro_entra_assignment",
        "kiro_entra_provisioning",
        "kiro_profile",
        "kiro_domain",
        "kiro_domain_verification",
        "kiro_access_token",
        "kiro_subscription",
    ] {
        assert!(
            rows.iter()
                .any(|r| matches!(r.kind, Kind::Resource(t) if t == kind)),
            "a row for {kind}"
        );
    }
    for kind in [
        "kiro_entra_user",
        "kiro_entra_group",
        "kiro_profile",
        "kiro_user",
        "kiro_group",
    ] {
        assert!(
            rows.iter()
                .any(|r| matches!(r.kind, Kind::Data(t) if t == kind)),
            "a row for data source {kind}"
        );
    }

    let mut table = Vec::new();
    for stage in [Stage::Validate, Stage::Plan] {
        let staged: Vec<&Row> = rows.iter().filter(|r| r.stage == stage).collect();
        let (refusals, requests) = refuse(&sandbox, stage, &staged);
        for (r, refusal) in staged.into_iter().zip(refusals) {
            table.push((r, refusal, requests));
        }
    }

    println!(
        "{:>3} | {:<44} | {:<32} | {:<8} | {:<28} | {:>4} | {:<40} | requests",
        "#", "row", "block", "refused", "attribute", "line", "diagnostic"
    );
    for (i, (r, refusal, requests)) in table.iter().enumerate() {
        let block = match r.kind {
            Kind::Resource(t) => t.to_string(),
            Kind::Data(t) => format!("data.{t}"),
            Kind::Provider => "provider".to_string(),
        };
        let summary: String = refusal.summary.chars().take(40).collect();
        println!(
            "{:>3} | {:<44} | {:<32} | {:<8} | {:<28} | {:>4} | {:<40} | {requests}",
            i + 1,
            r.label,
            block,
            r.stage.command(),
            r.attribute,
            refusal.line.map(|l| l.to_string()).unwrap_or_default(),
            summary
        );
    }
}
