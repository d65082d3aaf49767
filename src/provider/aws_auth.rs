//! The provider block's AWS credential arguments, named as the `aws` provider names them and
//! falling back to the same environment variables: `access_key`, `secret_key`, `token`, the
//! `assume_role` and `assume_role_with_web_identity` blocks, and `endpoints.sts`. Each value
//! is checked on its attribute at plan time (an ARN that is not a role's, a duration outside
//! 15m–12h, a session name or tag STS would refuse), so bad input costs no request.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::config::{EnvLookup, check_endpoint};
use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::framework::timeouts::parse_duration;
use crate::framework::validators::{StringCheck, Validator, not_blank};
use crate::framework::value::TfValue;
use crate::kiro::aws_auth::{AssumeRoleSettings, AwsAuth, StaticKeys, WebIdentityRole};
use crate::secret::Secret;

const ASSUME_ROLE: &str = "assume_role";
const WEB_IDENTITY: &str = "assume_role_with_web_identity";
/// The STS endpoint override's environment variable, as the AWS SDKs and provider read it.
pub const STS_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_STS";

/// Adds the arguments and blocks to the provider block.
pub fn arguments(block: Block) -> Block {
    block
        .attribute(
            Attribute::string("access_key")
                .optional()
                .validate(not_blank())
                .describe("AWS access key id for Kiro calls (and for STS when `assume_role` is set), instead of the standard AWS chain. Needs `secret_key`. Env `AWS_ACCESS_KEY_ID` (read by the chain when this is unset)."),
        )
        .attribute(
            Attribute::string("secret_key")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("AWS secret access key of `access_key`. Env `AWS_SECRET_ACCESS_KEY`."),
        )
        .attribute(
            Attribute::string("token")
                .optional()
                .sensitive()
                .validate(not_blank())
                .describe("Session token of temporary `access_key`/`secret_key` credentials. Env `AWS_SESSION_TOKEN`."),
        )
        .block(NestedBlock::new(ASSUME_ROLE, Nesting::Single, assume_role_block()))
        .block(NestedBlock::new(
            WEB_IDENTITY,
            Nesting::Single,
            web_identity_block(),
        ))
}

fn assume_role_block() -> Block {
    Block::new("A role Kiro calls are made as, assumed with `sts:AssumeRole` from the credentials configured otherwise (static keys, the web identity role, or the standard AWS chain). One per provider block: an aliased provider per tenant account.")
        .attribute(
            Attribute::string("role_arn")
                .required()
                .validate(role_arn())
                .describe("ARN of the role, `arn:aws:iam::<account id>:role/<name>`."),
        )
        .attribute(
            Attribute::string("session_name")
                .optional()
                .validate(session_name())
                .describe("Role session name (2–64 characters: letters, digits, `_+=,.@-`); shown in the tenant account's CloudTrail. Default `terraform-provider-kiro-<time>`."),
        )
        .attribute(
            Attribute::string("external_id")
                .optional()
                .validate(external_id())
                .describe("External id the role's trust policy requires (`sts:ExternalId`), 2–1224 characters."),
        )
        .attribute(
            Attribute::string("duration")
                .optional()
                .validate(session_duration())
                .describe("Session length, a duration from `15m` to `12h` such as `1h30m` (at most the role's maximum session duration). Default 1h."),
        )
        .attribute(
            Attribute::string_map("tags")
                .optional()
                .validate(SessionTags)
                .describe("Session tags (at most 50; keys 1–128 and values up to 256 characters of letters, digits, spaces and `_.:/=+-@`; keys not starting with `aws:`)."),
        )
}

fn web_identity_block() -> Block {
    Block::new("A role assumed with `sts:AssumeRoleWithWebIdentity` and an OIDC token from a file (GitHub Actions, EKS, HCP Terraform); no other AWS credentials are needed. With `assume_role` too, that role is assumed from this one.")
        .attribute(
            Attribute::string("role_arn")
                .optional()
                .validate(role_arn())
                .describe("ARN of the role. Env `AWS_ROLE_ARN`."),
        )
        .attribute(
            Attribute::string("web_identity_token_file")
                .optional()
                .validate(not_blank())
                .describe("File holding the OIDC token, read again whenever credentials are renewed. Env `AWS_WEB_IDENTITY_TOKEN_FILE`."),
        )
        .attribute(
            Attribute::string("session_name")
                .optional()
                .validate(session_name())
                .describe("Role session name (2–64 characters: letters, digits, `_+=,.@-`). Env `AWS_ROLE_SESSION_NAME`."),
        )
}

/// Assumes the configured role while the provider is configured, as the Entra sign-in is
/// done: a refused role is then one error on this provider block (with its alias, the
/// tenant), not one per resource; the credentials are cached for the Kiro calls that follow.
pub async fn assume_now(clients: &Clients) -> Result<(), Diagnostics> {
    let assumed = match clients.kiro().await {
        Ok(kiro) => kiro.aws().credentials().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assumed.map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot assume the AWS role for Kiro",
            e.to_string(),
        ))
    })
}

/// `arn:<partition>:iam::<12 digits>:role/<optional path/><name>`.
pub fn check_role_arn(arn: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "{arn:?} is not an IAM role ARN ({why}); expected arn:aws:iam::<12-digit account id>:role/<name>."
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, service, region, account, resource] = parts[..] else {
        return bad("it has fewer than six `:`-separated parts");
    };
    if !partition.starts_with("aws") || service != "iam" || !region.is_empty() {
        return bad("it must start with arn:<partition>:iam::");
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return bad("the account id must be 12 digits");
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return bad("the resource must be role/<name>");
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    let chars_ok = path_and_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    if name.is_empty() || name.len() > 64 || !chars_ok {
        return bad("the role name must be 1–64 letters, digits or +=,.@_-");
    }
    Ok(())
}

fn check_session_name(name: &str) -> Result<(), String> {
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if (2..=64).contains(&name.len()) && chars_ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a role session name: 2–64 characters, letters, digits and _+=,.@- only."
        ))
    }
}

fn check_external_id(id: &str) -> Result<(), String> {
    let chars_ok = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
    if (2..=1224).contains(&id.len()) && chars_ok {
        Ok(())
    } else {
        Err("An external id is 2–1224 characters: letters, digits and _+=,.@:/- only.".into())
    }
}

/// A Go duration from 15 minutes to 12 hours, as `sts:AssumeRole` accepts.
pub fn parse_session_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(15 * 60) || d > Duration::from_secs(12 * 3600) {
        return Err(format!(
            "{text:?} is outside what STS allows for a role session: 15m to 12h."
        ));
    }
    Ok(d)
}

fn role_arn() -> impl Validator {
    StringCheck(check_role_arn)
}

fn session_name() -> impl Validator {
    StringCheck(check_session_name)
}

fn external_id() -> impl Validator {
    StringCheck(check_external_id)
}

fn session_duration() -> impl Validator {
    StringCheck(|s: &str| parse_session_duration(s).map(|_| ()))
}

/// Session tags as STS takes them.
struct SessionTags;

fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 || !tag_chars_ok(key) {
        return Err(format!(
            "Tag key {key:?} must be 1–128 letters, digits, spaces or _.:/=+-@."
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("Tag key {key:?}: the aws: prefix is reserved."));
    }
    if value.chars().count() > 256 || !tag_chars_ok(value) {
        return Err(format!(
            "The value of tag {key:?} must be at most 256 letters, digits, spaces or _.:/=+-@."
        ));
    }
    Ok(())
}

impl Validator for SessionTags {
    fn validate(&self, value: &TfValue, path: &AttrPath, diags: &mut Diagnostics) {
        let TfValue::Map(tags) = value else { return };
        let mut problems: Vec<String> = tags
            .iter()
            .filter_map(|(k, v)| v.as_str().and_then(|v| check_tag(k, v).err()))
            .collect();
        if tags.len() > 50 {
            problems.push(format!("{} tags; STS takes at most 50.", tags.len()));
        }
        for problem in problems {
            diags.attr_error(path.clone(), format!("Invalid value for {path}"), problem);
        }
    }
}

/// A known string attribute of `object`.
fn text(object: Option<&TfValue>, name: &str) -> Option<String> {
    object?
        .get_attr(name)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Reads arguments, else their environment variables, checked with `check` (values from the
/// environment are not seen at plan time).
struct Reader<'a> {
    env: EnvLookup<'a>,
    diags: Diagnostics,
}

impl Reader<'_> {
    /// `attr` of `object` (the root, or the nested block `block`), else `env`'s value.
    fn read(
        &mut self,
        object: Option<&TfValue>,
        (block, attr): (Option<&str>, &str),
        env: Option<&str>,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        if let Some(v) = text(object, attr) {
            return Some(v);
        }
        let var = env?;
        let v = (self.env)(var)?;
        if let Err(problem) = check(&v) {
            let name = block.map_or(attr.to_string(), |b| format!("{b}.{attr}"));
            self.diags.push(Diagnostic::error(
                format!("Invalid {var}"),
                format!("{problem} (from {var}, for `{name}`)"),
            ));
        }
        Some(v)
    }
}

fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// The AWS credential arguments of a provider block, with their environment fallbacks.
pub fn resolve(config: &TfValue, env: EnvLookup<'_>) -> Result<AwsAuth, Diagnostics> {
    let mut r = Reader {
        env,
        diags: Diagnostics::new(),
    };
    let static_keys = static_keys(&mut r, config);
    let block = |name: &str| config.get_attr(name).filter(|v| !v.is_null());
    let web_identity = block(WEB_IDENTITY).and_then(|b| web_identity(&mut r, b));
    let assume_role = block(ASSUME_ROLE).map(assume_role);
    let sts_endpoint = sts_endpoint(&mut r, config);
    if r.diags.has_errors() {
        return Err(r.diags);
    }
    Ok(AwsAuth {
        static_keys,
        web_identity,
        assume_role,
        sts_endpoint,
    })
}

/// Static keys when `access_key` or `secret_key` is in the block; with neither, the
/// standard chain reads `AWS_ACCESS_KEY_ID` and the rest itself.
fn static_keys(r: &mut Reader<'_>, config: &TfValue) -> Option<StaticKeys> {
    let root = Some(config);
    if text(root, "access_key").is_none() && text(root, "secret_key").is_none() {
        return None;
    }
    let access = r.read(root, (None, "access_key"), Some("AWS_ACCESS_KEY_ID"), any);
    let secret = r.read(
        root,
        (None, "secret_key"),
        Some("AWS_SECRET_ACCESS_KEY"),
        any,
    );
    let token = r.read(root, (None, "token"), Some("AWS_SESSION_TOKEN"), any);
    match (access, secret) {
        (Some(access_key), Some(secret)) => Some(StaticKeys {
            access_key,
            secret_key: Secret::new(secret),
            token: token.map(Secret::new),
        }),
        (access, _) => {
            let (set, missing, var) = if access.is_some() {
                ("access_key", "secret_key", "AWS_SECRET_ACCESS_KEY")
            } else {
                ("secret_key", "access_key", "AWS_ACCESS_KEY_ID")
            };
            r.diags.push(
                Diagnostic::error(
                    format!("Missing {missing}"),
                    format!("`{set}` is set, so `{missing}` (or {var}) must be too."),
                )
                .at(AttrPath::attr(set)),
            );
            None
        }
    }
}

fn web_identity(r: &mut Reader<'_>, b: &TfValue) -> Option<WebIdentityRole> {
    let at = |name| (Some(WEB_IDENTITY), name);
    let role_arn = r.read(
        Some(b),
        at("role_arn"),
        Some("AWS_ROLE_ARN"),
        check_role_arn,
    );
    let token_file = r.read(
        Some(b),
        at("web_identity_token_file"),
        Some("AWS_WEB_IDENTITY_TOKEN_FILE"),
        any,
    );
    let session_name = r.read(
        Some(b),
        at("session_name"),
        Some("AWS_ROLE_SESSION_NAME"),
        check_session_name,
    );
    for (value, name, var) in [
        (&role_arn, "role_arn", "AWS_ROLE_ARN"),
        (
            &token_file,
            "web_identity_token_file",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ),
    ] {
        if value.is_none() {
            r.diags.push(
                Diagnostic::error(
                    format!("Missing {WEB_IDENTITY}.{name}"),
                    format!("Set `{name}` in the `{WEB_IDENTITY}` block, or {var}."),
                )
                .at(AttrPath::attr(WEB_IDENTITY)),
            );
        }
    }
    Some(WebIdentityRole {
        role_arn: role_arn?,
        token_file: PathBuf::from(token_file?),
        session_name,
    })
}

/// The block's values were checked on their attributes at plan time.
fn assume_role(b: &TfValue) -> AssumeRoleSettings {
    let tags: BTreeMap<String, String> = match b.get_attr("tags") {
        Some(TfValue::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    AssumeRoleSettings {
        role_arn: text(Some(b), "role_arn").unwrap_or_default(),
        session_name: text(Some(b), "session_name"),
        external_id: text(Some(b), "external_id"),
        duration: text(Some(b), "duration").and_then(|d| parse_session_duration(&d).ok()),
        tags,
    }
}

fn sts_endpoint(r: &mut Reader<'_>, config: &TfValue) -> Option<url::Url> {
    let endpoints = config.get_attr("endpoints");
    let path = AttrPath::attr("endpoints").then_attr("sts");
    let raw = r.read(
        endpoints,
        (Some("endpoints"), "sts"),
        Some(STS_ENDPOINT_ENV),
        any,
    )?;
    match check_endpoint(&raw) {
        Ok(url) => Some(url),
        Err(problem) => {
            let from_config = text(endpoints, "sts").is_some();
            let d = Diagnostic::error("Invalid endpoint for sts", problem);
            r.diags.push(if from_config {
                d.at(path)
            } else {
                Diagnostic {
                    detail: format!("{} (from {STS_ENDPOINT_ENV})", d.detail),
                    ..d
                }
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::typed::ObjectBuilder;

    const ROLE: &str = "arn:aws:iam::123456789012:role/kiro-admin";

    fn block(attrs: &[(&str, &str)]) -> TfValue {
        attrs
            .iter()
            .fold(ObjectBuilder::new(), |b, (k, v)| b.set(k, *v))
            .build()
    }

    fn with(mut config: TfValue, name: &str, value: TfValue) -> TfValue {
        if let TfValue::Object(m) = &mut config {
            m.insert(name.into(), value);
        }
        config
    }

    #[test]
    fn role_arns_durations_and_session_names_are_checked() {
        assert!(check_role_arn(ROLE).is_ok());
        assert!(check_role_arn("arn:aws-us-gov:iam::123456789012:role/team/kiro").is_ok());
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "kiro-admin",
        ] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_session_duration("1h30m"),
            Ok(Duration::from_secs(5400))
        );
        assert!(parse_session_duration("15m").is_ok());
        assert!(parse_session_duration("12h").is_ok());
        assert!(parse_session_duration("14m").is_err());
        assert!(parse_session_duration("12h1s").is_err());
        assert!(parse_session_duration("3600").is_err());
        assert!(check_session_name("tenant-a@ci").is_ok());
        assert!(check_session_name("a").is_err());
        assert!(check_session_name("has space").is_err());
        assert!(check_tag("team", "platform").is_ok());
        assert!(check_tag("aws:x", "y").is_err());
        assert!(check_tag("", "y").is_err());
        assert!(check_tag("k", "semi;colon").is_err());
    }

    #[test]
    fn arguments_win_over_environment_and_blocks_read_their_variables() {
        let env = |name: &str| match name {
            "AWS_SECRET_ACCESS_KEY" => Some("env-secret".to_string()),
            "AWS_ROLE_ARN" => Some(ROLE.to_string()),
            "AWS_WEB_IDENTITY_TOKEN_FILE" => Some("/var/run/token".to_string()),
            _ => None,
        };
        let config = with(
            block(&[("access_key", "AKIDCONFIG")]),
            WEB_IDENTITY,
            block(&[]),
        );
        let config = with(
            config,
            ASSUME_ROLE,
            with(
                block(&[
                    ("role_arn", ROLE),
                    ("duration", "2h"),
                    ("external_id", "tenant-a"),
                ]),
                "tags",
                TfValue::Map([("team".to_string(), TfValue::String("dev".into()))].into()),
            ),
        );
        let auth = resolve(&config, &env).unwrap();
        let keys = auth.static_keys.unwrap();
        assert_eq!(keys.access_key, "AKIDCONFIG");
        assert_eq!(keys.secret_key.expose(), "env-secret");
        let web = auth.web_identity.unwrap();
        assert_eq!(
            (web.role_arn.as_str(), web.token_file.to_str()),
            (ROLE, Some("/var/run/token"))
        );
        let role = auth.assume_role.unwrap();
        assert_eq!(role.duration, Some(Duration::from_secs(7200)));
        assert_eq!(role.external_id.as_deref(), Some("tenant-a"));
        assert_eq!(role.tags.get("team").map(String::as_str), Some("dev"));
    }

    #[test]
    fn nothing_configured_leaves_the_standard_chain() {
        let env = |name: &str| (name == "AWS_ACCESS_KEY_ID").then(|| "AKIDENV".to_string());
        assert_eq!(resolve(&block(&[]), &env).unwrap(), AwsAuth::default());
    }

    #[test]
    fn half_a_key_pair_or_a_bad_variable_is_refused_without_the_secret() {
        let no_env = |_: &str| None;
        let diags = resolve(&block(&[("secret_key", "s3cr3t")]), &no_env).unwrap_err();
        let text = format!("{diags:?}");
        assert!(text.contains("Missing access_key"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        let env =
            |name: &str| (name == "AWS_ROLE_ARN").then(|| "arn:aws:iam::1:role/x".to_string());
        let config = with(
            block(&[]),
            WEB_IDENTITY,
            block(&[("web_identity_token_file", "/t")]),
        );
        let text = format!("{:?}", resolve(&config, &env).unwrap_err());
        assert!(text.contains("Invalid AWS_ROLE_ARN"), "{text}");
        let env = |name: &str| (name == STS_ENDPOINT_ENV).then(|| "http://sts.example".to_string());
        let text = format!("{:?}", resolve(&block(&[]), &env).unwrap_err());
        assert!(text.contains(STS_ENDPOINT_ENV), "{text}");
    }
}
