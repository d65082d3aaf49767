//! The configuration that adopts a [`Setup`]: for each piece an `import` block and the
//! resource block that describes it as its import reads it, arguments left out where they
//! are the resource's default, and references where a hand-written configuration would use
//! them (`application_id = kiro_entra_application.this.id`).

use hcl::{Block, Expression};

use super::hcl::{Document, Item, import_block, reference, string};
use super::names::Names;
use super::{FoundMapping, FoundProvisioning, FoundSubscription, Setup};
use crate::graph::applications::Platform;
use crate::resources::entra_assignment::TEMPLATE_USER_ROLE;

const APP: &str = "kiro_entra_application.this";
const PROFILE: &str = "kiro_profile.this";

/// What the written `kiro_entra_provisioning` does about its SCIM secret token, which
/// Entra never returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimTokenMode {
    /// No secret argument: the token saved in Entra stays as it is.
    Keep,
    /// A `kiro_scim_token` block: the first apply mints a new token and switches Entra to it.
    Mint,
    /// `secret_token_wo` from a sensitive variable: the first apply sends the token given.
    Variable,
}

/// A resource block being built: its type, name and arguments.
struct Resource {
    kind: &'static str,
    name: String,
    args: Vec<(&'static str, Expression)>,
    blocks: Vec<Block>,
}

impl Resource {
    fn new(kind: &'static str, name: &str) -> Self {
        Resource {
            kind,
            name: name.to_string(),
            args: Vec::new(),
            blocks: Vec::new(),
        }
    }

    fn arg(mut self, key: &'static str, value: Expression) -> Self {
        self.args.push((key, value));
        self
    }

    /// `key = "value"` when there is a value.
    fn opt(self, key: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.arg(key, string(v)),
            None => self,
        }
    }

    fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }

    fn block(&self) -> Block {
        let mut b = Block::builder("resource")
            .add_label(self.kind)
            .add_label(self.name.as_str());
        for (key, value) in &self.args {
            b = b.add_attribute((*key, value.clone()));
        }
        b.add_blocks(self.blocks.clone()).build()
    }
}

/// The import block, then the resource block (with `comments` above and `inner` inside).
fn adopt(doc: &mut Document, r: &Resource, id: &str, comments: Vec<String>, inner: Vec<String>) {
    doc.push(Vec::new(), import_block(&r.address(), id));
    doc.push_item(Item {
        comments,
        block: r.block(),
        inner_comments: inner,
    });
}

/// The whole `.tf` file for `setup`.
pub fn write_configuration(setup: &Setup, mode: ScimTokenMode) -> String {
    let app = &setup.application;
    let mut doc = Document::with_header(vec![
        format!(
            "Written by kiro-adopt {} for the application {:?} (client id {}).",
            env!("CARGO_PKG_VERSION"),
            app.display_name,
            app.client_id
        ),
        "`terraform plan` shows these imports and nothing else to change, but where a comment"
            .into(),
        "above a block says otherwise; `terraform apply` adopts them.".into(),
    ]);
    application(&mut doc, setup);
    let assignment_names = entra_children(&mut doc, setup);
    if let Some(p) = &setup.provisioning {
        provisioning(&mut doc, setup, p, mode);
    }
    if setup.profile.is_some() {
        kiro(&mut doc, setup, &assignment_names);
    }
    let mut text = doc.render();
    if mode == ScimTokenMode::Variable && setup.provisioning.is_some() {
        text.push_str(SCIM_TOKEN_VARIABLE);
    }
    text
}

fn application(doc: &mut Document, setup: &Setup) {
    let app = &setup.application;
    let mut r = Resource::new("kiro_entra_application", "this")
        .arg("display_name", string(&app.display_name))
        .opt("identifier_uri", app.identifier_uri.as_deref());
    if app.token_version != 2 {
        r = r.arg("requested_access_token_version", app.token_version.into());
    }
    if app.keep_default_scope {
        r = r.arg("keep_default_scope", true.into());
    }
    if !app.assignment_required {
        r = r.arg("assignment_required", false.into());
    }
    let comments = if app.identifier_uri_missing {
        missing_identifier_uri(&app.client_id)
    } else {
        Vec::new()
    };
    adopt(doc, &r, &app.object_id, comments, Vec::new());
}

/// Why the application plans an update: the resource always gives it an identifier URI.
pub fn missing_identifier_uri(client_id: &str) -> Vec<String> {
    vec![
        "The application has no Application ID URI (the guide's \"Expose an API\" step, which"
            .into(),
        format!("Kiro needs). The first plan shows it updated in place to add api://{client_id},"),
        "the portal's default: the one change besides the imports.".into(),
    ]
}

/// Scopes, redirect URIs and assignments; returns each assignment's block name by principal
/// object id, for the subscriptions that name the same principal.
fn entra_children(doc: &mut Document, setup: &Setup) -> Vec<(String, String)> {
    let app = &setup.application;
    let mut names = Names::default();
    for s in &setup.scopes {
        let mut r = Resource::new("kiro_entra_api_scope", &names.unique(&s.value, "scope"))
            .arg("application_id", reference(&format!("{APP}.id")))
            .arg("value", string(&s.value));
        if s.kind != "User" {
            r = r.arg("type", string(&s.kind));
        }
        if !s.enabled {
            r = r.arg("enabled", false.into());
        }
        let r = r
            .opt(
                "admin_consent_display_name",
                s.admin_consent_display_name.as_deref(),
            )
            .opt(
                "admin_consent_description",
                s.admin_consent_description.as_deref(),
            )
            .opt(
                "user_consent_display_name",
                s.user_consent_display_name.as_deref(),
            )
            .opt(
                "user_consent_description",
                s.user_consent_description.as_deref(),
            );
        let id = format!("{}/scopes/{}", app.object_id, s.id);
        adopt(doc, &r, &id, Vec::new(), Vec::new());
    }
    let mut names = Names::default();
    for u in &setup.redirect_uris {
        let readable = u
            .uri
            .split_once("://")
            .map_or(u.uri.as_str(), |(_, rest)| rest);
        let mut r = Resource::new("kiro_entra_redirect_uri", &names.unique(readable, "uri"))
            .arg("application_id", reference(&format!("{APP}.id")))
            .arg("uri", string(&u.uri));
        if u.platform != Platform::PublicClient.as_str() {
            r = r.arg("platform", string(&u.platform));
        }
        let id = format!("{}/{}/{}", app.object_id, u.platform, u.uri);
        adopt(doc, &r, &id, Vec::new(), Vec::new());
    }
    let mut names = Names::default();
    let mut by_principal = Vec::new();
    for a in &setup.assignments {
        let name = names.unique(&a.principal_display_name, &a.principal_type.to_lowercase());
        let mut r = Resource::new("kiro_entra_assignment", &name)
            .arg(
                "service_principal_id",
                reference(&format!("{APP}.service_principal_id")),
            )
            .arg("principal_id", string(&a.principal_id));
        if !a.app_role_id.eq_ignore_ascii_case(TEMPLATE_USER_ROLE) {
            r = r.arg("app_role_id", string(&a.app_role_id));
        }
        let comment = vec![format!(
            "{} {:?}",
            a.principal_type, a.principal_display_name
        )];
        let id = format!("{}/{}", app.service_principal_id, a.id);
        adopt(doc, &r, &id, comment, Vec::new());
        by_principal.push((a.principal_id.to_lowercase(), name));
    }
    by_principal
}

fn mapping_block(m: &FoundMapping) -> Block {
    let mut b = Block::builder("attribute_mapping")
        .add_attribute(("object", string(&m.object)))
        .add_attribute(("target_attribute", string(&m.target_attribute)));
    if let Some(source) = &m.source_attribute {
        b = b.add_attribute(("source_attribute", string(source)));
    }
    if let Some(expression) = &m.expression {
        b = b.add_attribute(("expression", string(expression)));
    }
    b.build()
}

fn provisioning(doc: &mut Document, setup: &Setup, p: &FoundProvisioning, mode: ScimTokenMode) {
    let tenant_url = match &setup.profile {
        Some(profile) if profile.scim_endpoint == p.tenant_url => {
            reference(&format!("{PROFILE}.scim_endpoint"))
        }
        _ => string(&p.tenant_url),
    };
    let mut r = Resource::new("kiro_entra_provisioning", "this")
        .arg(
            "service_principal_id",
            reference(&format!("{APP}.service_principal_id")),
        )
        .arg("tenant_url", tenant_url);
    if p.sync_scope != "assigned" {
        r = r.arg("sync_scope", string(&p.sync_scope));
    }
    if !p.enabled {
        r = r.arg("enabled", false.into());
    }
    if !p.remove_unsupported_mappings {
        r = r.arg("remove_unsupported_mappings", false.into());
    }
    r.blocks = p.mappings.iter().map(mapping_block).collect();
    let mode = if setup.profile.is_none() && mode == ScimTokenMode::Mint {
        ScimTokenMode::Keep
    } else {
        mode
    };
    let (comments, inner) = match mode {
        ScimTokenMode::Keep => (KEEP_COMMENT.map(String::from).to_vec(), mint_hint(setup)),
        ScimTokenMode::Mint => {
            let token = Block::builder("kiro_scim_token")
                .add_attribute(("profile_arn", reference(&format!("{PROFILE}.arn"))))
                .build();
            r.blocks.push(token);
            (MINT_COMMENT.map(String::from).to_vec(), Vec::new())
        }
        ScimTokenMode::Variable => {
            r = r
                .arg("secret_token_wo", reference("var.scim_token"))
                .arg("secret_token_wo_version", 1.into());
            (VARIABLE_COMMENT.map(String::from).to_vec(), Vec::new())
        }
    };
    adopt(
        doc,
        &r,
        &setup.application.service_principal_id,
        comments,
        inner,
    );
}

/// The `kiro_scim_token` block, commented out, for the default mode.
fn mint_hint(setup: &Setup) -> Vec<String> {
    if setup.profile.is_none() {
        return Vec::new();
    }
    vec![
        "To let Terraform own the token instead (see above):".into(),
        "kiro_scim_token {".into(),
        format!("  profile_arn = {PROFILE}.arn"),
        "}".into(),
    ]
}

const KEEP_COMMENT: [&str; 5] = [
    "Entra never returns the SCIM secret token, so none is written here: the token saved in",
    "Entra is kept as it is and this block plans no change. To have Terraform own it, uncomment",
    "the kiro_scim_token block below (the next plan shows this resource updated in place: the",
    "apply mints a new token in Kiro, Entra switches to it after a passing Test Connection) or",
    "set secret_token_wo from a variable (with secret_token_wo_version).",
];

const MINT_COMMENT: [&str; 4] = [
    "Entra never returns the SCIM secret token. The kiro_scim_token block has the first apply",
    "mint a new token in Kiro and switch Entra to it after a passing Test Connection: the",
    "first plan shows this resource updated in place for that, and nothing else. Later tokens",
    "are rotated with rotation_triggers or rotate_before.",
];

const VARIABLE_COMMENT: [&str; 3] = [
    "Entra never returns the SCIM secret token: give it in var.scim_token. The first apply",
    "sends it to Entra (after a passing Test Connection), so the first plan shows this",
    "resource updated in place for that; raise secret_token_wo_version to send a new one.",
];

const SCIM_TOKEN_VARIABLE: &str = r#"
# The SCIM token Entra uses for Kiro (a token from Kiro's console, or the one saved in the
# portal if you still have it). Write-only: never stored in the plan or the state.
variable "scim_token" {
  type      = string
  sensitive = true
}
"#;

fn kiro(doc: &mut Document, setup: &Setup, assignments: &[(String, String)]) {
    let Some(profile) = &setup.profile else {
        return;
    };
    let app = &setup.application;
    let same_issuer =
        profile.issuer_url.trim_end_matches('/') == app.issuer_url.trim_end_matches('/');
    let issuer = if same_issuer {
        reference(&format!("{APP}.issuer_url"))
    } else {
        string(&profile.issuer_url)
    };
    let client_id = if profile.client_id.eq_ignore_ascii_case(&app.client_id) {
        reference(&format!("{APP}.client_id"))
    } else {
        string(&profile.client_id)
    };
    let mut r = Resource::new("kiro_profile", "this")
        .arg("name", string(&profile.name))
        .opt("description", profile.description.as_deref())
        .arg("issuer_url", issuer)
        .arg("client_id", client_id);
    match &profile.tenant_id {
        Some(t) if t.eq_ignore_ascii_case(&app.tenant_id) => {
            r = r.arg("tenant_id", reference(&format!("{APP}.tenant_id")));
        }
        other => r = r.opt("tenant_id", other.as_deref()),
    }
    if !profile.tags.is_empty() {
        let tags: hcl::Object<hcl::ObjectKey, Expression> = profile
            .tags
            .iter()
            .map(|(k, v)| (hcl::ObjectKey::Expression(string(k)), string(v)))
            .collect();
        r = r.arg("tags", Expression::Object(tags));
    }
    adopt(doc, &r, &profile.arn, Vec::new(), Vec::new());
    let mut names = Names::default();
    for domain in &setup.domains {
        let r = Resource::new("kiro_domain", &names.unique(domain, "domain"))
            .arg("profile_arn", reference(&format!("{PROFILE}.arn")))
            .arg("domain_name", string(domain));
        adopt(
            doc,
            &r,
            &format!("{}|{domain}", profile.arn),
            Vec::new(),
            Vec::new(),
        );
    }
    let mut names = Names::default();
    for s in &setup.subscriptions {
        subscription(doc, &profile.arn, s, assignments, &mut names);
    }
}

/// A subscription names its principal by the Entra object id (as the guide's configuration
/// does): through the assignment of that principal when there is one.
fn subscription(
    doc: &mut Document,
    arn: &str,
    s: &FoundSubscription,
    assignments: &[(String, String)],
    names: &mut Names,
) {
    let assignment = s.external_id.as_ref().and_then(|ext| {
        let ext = ext.to_lowercase();
        assignments
            .iter()
            .find(|(id, _)| *id == ext)
            .map(|(_, name)| name)
    });
    let fallback = s.principal_type.to_lowercase();
    let name = names.unique(assignment.map_or(&s.principal_name, |n| n), &fallback);
    let principal = match (assignment, &s.external_id) {
        (Some(a), _) => (
            "external_id",
            reference(&format!("kiro_entra_assignment.{a}.principal_id")),
        ),
        (None, Some(ext)) => ("external_id", string(ext)),
        (None, None) => ("principal_id", string(&s.principal_id)),
    };
    let r = Resource::new("kiro_subscription", &name)
        .arg("profile_arn", reference(&format!("{PROFILE}.arn")))
        .arg("principal_type", string(&s.principal_type))
        .arg(principal.0, principal.1)
        .arg("plan", string(&s.plan));
    let id = format!("{arn}|{}|{}", s.principal_type, s.principal_id);
    adopt(doc, &r, &id, Vec::new(), Vec::new());
}
