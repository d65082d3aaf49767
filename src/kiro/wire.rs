//! Every wire shape of the Kiro admin API in one place: the operation table (service, hence
//! target prefix and signing name), and the request and response structs of each operation
//! (serde, camelCase, epoch-second timestamps, tags as `[{key, value}]`).
//!
//! The contract is modeled, not published by AWS (`spec/kiro-api.md`); every shape the
//! contract marks **[assumed]** says so in its doc comment. A real endpoint that differs is a
//! change to this file only.
//!
//! Responses: unknown fields are ignored (the service may add members); a missing required
//! field fails the call with [`KiroError::Decode`](super::KiroError::Decode) naming the
//! operation. Enumerations keep a value they do not know as `Unknown(String)` rather than
//! failing a whole read on a new status.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::KiroService;
use crate::secret::Secret;

/// `X-Amz-Target` prefix of the profile operations (public: AWS's IDE toolkit).
pub const PROFILES_TARGET_PREFIX: &str = "AWSCodeWhispererService";
/// SigV4 signing name of the profile operations (public).
pub const PROFILES_SIGNING_NAME: &str = "codewhisperer";
/// `X-Amz-Target` prefix of the identity operations. **[assumed]** for all but
/// `CreateAssignment` (seen in public scripts).
pub const IDENTITY_TARGET_PREFIX: &str = "AmazonQDeveloperService";
/// SigV4 signing name of the identity operations (public for `CreateAssignment`).
pub const IDENTITY_SIGNING_NAME: &str = "q";
/// `maxResults` sent with every paged request (the contract allows 1–100).
pub const PAGE_SIZE: u32 = 100;

/// One operation of the API: its name (the part of `X-Amz-Target` after the prefix) and the
/// service whose prefix and signing name it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// e.g. `CreateProfile`.
    pub name: &'static str,
    /// [`KiroService::Profiles`] (`codewhisperer`) or [`KiroService::Identity`] (`q`).
    pub service: KiroService,
}

const fn profiles(name: &'static str) -> Operation {
    Operation {
        name,
        service: KiroService::Profiles,
    }
}

const fn identity(name: &'static str) -> Operation {
    Operation {
        name,
        service: KiroService::Identity,
    }
}

/// `CreateProfile` (public name and protocol).
pub const CREATE_PROFILE: Operation = profiles("CreateProfile");
/// `ListProfiles` (public).
pub const LIST_PROFILES: Operation = profiles("ListProfiles");
/// `UpdateProfile` (public).
pub const UPDATE_PROFILE: Operation = profiles("UpdateProfile");
/// `DeleteProfile` (public).
pub const DELETE_PROFILE: Operation = profiles("DeleteProfile");
/// `TagResource`: public IAM action; shape and service **[assumed]** (AWS's usual
/// `{resourceArn, tags}` on the profiles service).
pub const TAG_RESOURCE: Operation = profiles("TagResource");
/// `UntagResource`: **[assumed]** `{resourceArn, tagKeys}` on the profiles service.
pub const UNTAG_RESOURCE: Operation = profiles("UntagResource");
/// `ListTagsForResource`: **[assumed]** `{resourceArn}` → `{tags}` on the profiles service.
pub const LIST_TAGS_FOR_RESOURCE: Operation = profiles("ListTagsForResource");
/// `AssociateLoginDomain` **[assumed shape]**.
pub const ASSOCIATE_LOGIN_DOMAIN: Operation = identity("AssociateLoginDomain");
/// `ListLoginDomains` **[assumed shape]**.
pub const LIST_LOGIN_DOMAINS: Operation = identity("ListLoginDomains");
/// `DisassociateLoginDomain` **[assumed shape]**.
pub const DISASSOCIATE_LOGIN_DOMAIN: Operation = identity("DisassociateLoginDomain");
/// `CreateScimAccessToken` **[assumed shape]**.
pub const CREATE_SCIM_ACCESS_TOKEN: Operation = identity("CreateScimAccessToken");
/// `ListScimAccessTokens` **[assumed shape]**.
pub const LIST_SCIM_ACCESS_TOKENS: Operation = identity("ListScimAccessTokens");
/// `DeleteScimAccessToken` **[assumed shape]**.
pub const DELETE_SCIM_ACCESS_TOKEN: Operation = identity("DeleteScimAccessToken");
/// `ListUsers` **[assumed shape]**.
pub const LIST_USERS: Operation = identity("ListUsers");
/// `ListGroups` **[assumed shape]**.
pub const LIST_GROUPS: Operation = identity("ListGroups");
/// `CreateAssignment` (target public; members **[assumed]**).
pub const CREATE_ASSIGNMENT: Operation = identity("CreateAssignment");
/// `UpdateAssignment` **[assumed shape]**.
pub const UPDATE_ASSIGNMENT: Operation = identity("UpdateAssignment");
/// `DeleteAssignment` **[assumed shape]**.
pub const DELETE_ASSIGNMENT: Operation = identity("DeleteAssignment");
/// `ListAssignments` **[assumed operation]**.
pub const LIST_ASSIGNMENTS: Operation = identity("ListAssignments");

/// Every operation the client calls.
pub const OPERATIONS: &[Operation] = &[
    CREATE_PROFILE,
    LIST_PROFILES,
    UPDATE_PROFILE,
    DELETE_PROFILE,
    TAG_RESOURCE,
    UNTAG_RESOURCE,
    LIST_TAGS_FOR_RESOURCE,
    ASSOCIATE_LOGIN_DOMAIN,
    LIST_LOGIN_DOMAINS,
    DISASSOCIATE_LOGIN_DOMAIN,
    CREATE_SCIM_ACCESS_TOKEN,
    LIST_SCIM_ACCESS_TOKENS,
    DELETE_SCIM_ACCESS_TOKEN,
    LIST_USERS,
    LIST_GROUPS,
    CREATE_ASSIGNMENT,
    UPDATE_ASSIGNMENT,
    DELETE_ASSIGNMENT,
    LIST_ASSIGNMENTS,
];

// ---------------------------------------------------------------------------------------
// Shared values
// ---------------------------------------------------------------------------------------

/// A profile ARN, `arn:${Partition}:codewhisperer:${Region}:${Account}:profile/${Id}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileArn(pub String);

impl ProfileArn {
    /// The ARN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ProfileArn {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for ProfileArn {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// A resource tag, `{key, value}` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

impl Tag {
    /// A tag `key = value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Declares a wire enumeration: the known values, plus `Unknown(String)` for any value this
/// client does not know, so a new status on the service does not break every read.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this client does not know (kept verbatim).
            Unknown(String),
        }

        impl $name {
            /// The value as on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// Parses a wire value; anything unknown becomes `Unknown`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(|value| Self::from_wire(&value))
            }
        }
    };
}

wire_enum! {
    /// Profile status **[assumed]**.
    ProfileStatus {
        /// Being created.
        Creating = "CREATING",
        /// Usable.
        Active = "ACTIVE",
        /// Being deleted.
        Deleting = "DELETING",
    }
}

wire_enum! {
    /// Login domain verification status **[assumed]**.
    LoginDomainStatus {
        /// Waiting for the TXT record to be visible.
        Pending = "PENDING",
        /// The record was seen; the domain is verified.
        Verified = "VERIFIED",
        /// No record within 72 hours.
        Failed = "FAILED",
    }
}

wire_enum! {
    /// Kind of principal an assignment is for **[assumed]**.
    PrincipalType {
        /// A synced user.
        User = "USER",
        /// A synced group.
        Group = "GROUP",
    }
}

wire_enum! {
    /// Subscription tier **[assumed]**.
    SubscriptionType {
        /// Kiro Pro.
        KiroPro = "KIRO_PRO",
        /// Kiro Pro+.
        KiroProPlus = "KIRO_PRO_PLUS",
        /// Kiro Power.
        KiroPower = "KIRO_POWER",
    }
}

wire_enum! {
    /// Assignment status **[assumed]**.
    AssignmentStatus {
        /// In force.
        Active = "ACTIVE",
        /// Cancelled.
        Canceled = "CANCELED",
    }
}

/// Timestamps as epoch seconds (JSON numbers, possibly fractional), as AWS JSON protocols
/// send them.
pub mod epoch_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Writes whole seconds.
    pub fn serialize<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(at.unix_timestamp())
    }

    /// Reads integer or fractional seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        from_seconds(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub(super) fn from_seconds(secs: f64) -> Result<OffsetDateTime, String> {
        if !secs.is_finite() {
            return Err("a timestamp is not a finite number of seconds".into());
        }
        let nanos = (secs * 1e9).round() as i128;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .map_err(|_| format!("timestamp {secs} is out of range"))
    }

    /// Optional timestamps: absent or `null` is `None`.
    pub mod option {
        use super::*;

        /// Writes whole seconds, or `null`.
        pub fn serialize<S: Serializer>(
            at: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => s.serialize_i64(at.unix_timestamp()),
                None => s.serialize_none(),
            }
        }

        /// Reads integer or fractional seconds, or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<f64>::deserialize(d)?
                .map(from_seconds)
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

/// A list that may be absent or `null` (both read as empty).
fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn secret_string<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// A response with no members we need (`{}`); any members are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Empty {}

// ---------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------

/// The IdP a profile signs users in with. **[assumed union member]**
/// `{externalIdentityProvider: {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySource {
    /// The external OpenID Connect provider.
    pub external_identity_provider: ExternalIdentityProvider,
}

/// An external OIDC identity provider (Entra ID).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalIdentityProvider {
    /// The OpenID issuer (`https://login.microsoftonline.com/<tid>/v2.0`) or its metadata
    /// document URL.
    pub issuer_url: String,
    /// The application (client) id Kiro signs in as.
    pub client_id: String,
    /// The Entra tenant id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl IdentitySource {
    /// An external OIDC provider as the identity source.
    pub fn external(
        issuer_url: impl Into<String>,
        client_id: impl Into<String>,
        tenant_id: Option<String>,
    ) -> Self {
        Self {
            external_identity_provider: ExternalIdentityProvider {
                issuer_url: issuer_url.into(),
                client_id: client_id.into(),
                tenant_id,
            },
        }
    }
}

/// `CreateProfile` request. The `client_token` makes the create idempotent: the same token
/// within 8 hours returns the same profile, so it is made once (by [`CreateProfile::new`] or
/// the caller) and reused by every retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProfile {
    /// `[a-zA-Z][a-zA-Z0-9_-]{0,99}`, unique in the region.
    pub profile_name: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IdP (cannot change later **[assumed]**).
    pub identity_source: IdentitySource,
    /// Idempotency token.
    pub client_token: String,
    /// Tags to create the profile with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl CreateProfile {
    /// A request with a fresh random `client_token`, no description and no tags.
    pub fn new(profile_name: impl Into<String>, identity_source: IdentitySource) -> Self {
        Self {
            profile_name: profile_name.into(),
            description: None,
            identity_source,
            client_token: uuid::Uuid::new_v4().to_string(),
            tags: Vec::new(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the tags.
    pub fn tags(mut self, tags: Vec<Tag>) -> Self {
        self.tags = tags;
        self
    }

    /// Uses a token the caller keeps (e.g. to recover a create whose answer was lost across
    /// runs) instead of the random one.
    pub fn client_token(mut self, token: impl Into<String>) -> Self {
        self.client_token = token.into();
        self
    }
}

/// `{profileArn}`: the answer of `CreateProfile` and `UpdateProfile`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileArnResponse {
    /// The profile's ARN.
    pub profile_arn: ProfileArn,
}

/// A page request: `maxResults` and, after the first page, `nextToken` (set by the pager).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProfilesRequest {
    /// Page size.
    pub max_results: u32,
}

/// `ListProfiles` list member.
pub const PROFILES_ITEMS: &str = "profiles";

/// A Kiro profile. **[assumed shape]** beyond `arn` and `profileName`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The ARN.
    pub arn: ProfileArn,
    /// The name.
    pub profile_name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Lifecycle status.
    pub status: ProfileStatus,
    /// Creation time.
    #[serde(with = "epoch_seconds")]
    pub created_at: OffsetDateTime,
    /// The IdP and the SCIM endpoint.
    pub identity_details: IdentityDetails,
    /// Tags (absent = none).
    #[serde(default, deserialize_with = "nullable_vec")]
    pub tags: Vec<Tag>,
}

/// `identityDetails` of a profile **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDetails {
    /// The external IdP's details.
    pub external_identity_provider_details: ExternalIdentityProviderDetails,
}

/// The stored IdP and the SCIM endpoint **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalIdentityProviderDetails {
    /// The issuer as the service stores it (the issuer, even if a metadata URL was given).
    pub issuer_url: String,
    /// The application (client) id.
    pub client_id: String,
    /// The Entra tenant id.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The URL for Entra's "Tenant URL" (SCIM base).
    pub scim_endpoint: String,
}

/// `UpdateProfile` request: only the members given change. The identity source cannot
/// change **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfile {
    /// The profile.
    pub profile_arn: ProfileArn,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `{profileArn}`: `DeleteProfile`'s request, and the request of every other call that only
/// names a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRef<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
}

/// `TagResource` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest<'a> {
    /// The tagged resource (a profile ARN).
    pub resource_arn: &'a str,
    /// Tags to add or overwrite.
    pub tags: &'a [Tag],
}

/// `UntagResource` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest<'a> {
    /// The tagged resource.
    pub resource_arn: &'a str,
    /// Keys to remove.
    pub tag_keys: &'a [String],
}

/// `ListTagsForResource` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef<'a> {
    /// The tagged resource.
    pub resource_arn: &'a str,
}

/// `ListTagsForResource` response **[assumed]**: `tags` is required.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TagsResponse {
    /// The resource's tags.
    #[serde(deserialize_with = "nullable_vec")]
    pub tags: Vec<Tag>,
}

// ---------------------------------------------------------------------------------------
// Login domains [assumed shapes]
// ---------------------------------------------------------------------------------------

/// `AssociateLoginDomain` and `DisassociateLoginDomain` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginDomainRef<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// The domain, e.g. `example.com`.
    pub domain_name: &'a str,
}

/// `AssociateLoginDomain` response **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociateLoginDomainResponse {
    /// The new association.
    pub login_domain: LoginDomain,
}

/// A paged request that names a profile (`ListLoginDomains`, `ListScimAccessTokens`,
/// `ListAssignments`) **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePageRequest<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// Page size.
    pub max_results: u32,
}

/// `ListLoginDomains` list member.
pub const LOGIN_DOMAINS_ITEMS: &str = "loginDomains";

/// A domain associated with a profile **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginDomain {
    /// The domain.
    pub domain_name: String,
    /// Verification status.
    pub status: LoginDomainStatus,
    /// The token the TXT record must carry.
    pub verification_token: String,
    /// The record to publish, exactly as given (clients never build it).
    pub verification_record: VerificationRecord,
    /// Association time.
    #[serde(with = "epoch_seconds")]
    pub created_at: OffsetDateTime,
    /// Verification time.
    #[serde(default, with = "epoch_seconds::option")]
    pub verified_at: Option<OffsetDateTime>,
}

/// The DNS record that proves ownership of a domain **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRecord {
    /// Record name, e.g. `_kiro-verification.example.com`.
    pub name: String,
    /// Record type (`TXT`).
    #[serde(rename = "type")]
    pub record_type: String,
    /// Record value.
    pub value: String,
}

// ---------------------------------------------------------------------------------------
// SCIM access tokens [assumed shapes]
// ---------------------------------------------------------------------------------------

/// `CreateScimAccessToken` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateScimAccessTokenRequest<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

/// A new SCIM access token, the only time its secret is seen **[assumed]**. `Debug` shows
/// the secret as `<redacted>`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// The token's id.
    pub token_id: String,
    /// The bearer token for Entra's "Secret Token".
    #[serde(deserialize_with = "secret_string")]
    pub token: Secret,
    /// Creation time.
    #[serde(with = "epoch_seconds")]
    pub created_at: OffsetDateTime,
    /// Expiry (a year after creation).
    #[serde(with = "epoch_seconds")]
    pub expires_at: OffsetDateTime,
}

/// `ListScimAccessTokens` list member.
pub const SCIM_ACCESS_TOKENS_ITEMS: &str = "scimAccessTokens";

/// A SCIM access token as listed (no secret) **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimAccessToken {
    /// The token's id.
    pub token_id: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time.
    #[serde(with = "epoch_seconds")]
    pub created_at: OffsetDateTime,
    /// Expiry.
    #[serde(with = "epoch_seconds")]
    pub expires_at: OffsetDateTime,
    /// Last use, if ever.
    #[serde(default, with = "epoch_seconds::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// `DeleteScimAccessToken` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimAccessTokenRef<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// The token.
    pub token_id: &'a str,
}

// ---------------------------------------------------------------------------------------
// Synced identities and subscriptions [assumed shapes]
// ---------------------------------------------------------------------------------------

/// `ListUsers` filter **[assumed]**; all `None` = every user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFilter {
    /// The Entra object id the user was provisioned with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The user name (UPN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

impl UserFilter {
    fn is_empty(&self) -> bool {
        self.external_id.is_none() && self.user_name.is_none()
    }
}

/// `ListGroups` filter **[assumed]**; all `None` = every group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupFilter {
    /// The Entra object id the group was provisioned with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The group's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl GroupFilter {
    fn is_empty(&self) -> bool {
        self.external_id.is_none() && self.display_name.is_none()
    }
}

/// `ListUsers` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListUsersRequest<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// Omitted when empty.
    #[serde(skip_serializing_if = "UserFilter::is_empty")]
    pub filter: &'a UserFilter,
    /// Page size.
    pub max_results: u32,
}

/// `ListGroups` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListGroupsRequest<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// Omitted when empty.
    #[serde(skip_serializing_if = "GroupFilter::is_empty")]
    pub filter: &'a GroupFilter,
    /// Page size.
    pub max_results: u32,
}

/// `ListUsers` list member.
pub const USERS_ITEMS: &str = "users";
/// `ListGroups` list member.
pub const GROUPS_ITEMS: &str = "groups";

/// A user synced into the profile by SCIM **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Kiro's id (the `principalId` of assignments).
    pub user_id: String,
    /// SCIM `userName`.
    pub user_name: String,
    /// SCIM `externalId` (the Entra object id).
    pub external_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `false` once soft-deleted.
    pub active: bool,
}

/// A group synced into the profile by SCIM **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Kiro's id (the `principalId` of assignments).
    pub group_id: String,
    /// Display name.
    pub display_name: String,
    /// SCIM `externalId` (the Entra object id).
    pub external_id: String,
    /// Number of members.
    pub member_count: u64,
}

/// `CreateAssignment` and `UpdateAssignment` request **[assumed members]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentSpec {
    /// The profile.
    pub profile_arn: ProfileArn,
    /// A synced user's `userId` or group's `groupId`.
    pub principal_id: String,
    /// User or group.
    pub principal_type: PrincipalType,
    /// The tier.
    pub subscription_type: SubscriptionType,
}

/// `DeleteAssignment` request **[assumed]**.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRef<'a> {
    /// The profile.
    pub profile_arn: &'a ProfileArn,
    /// The principal.
    pub principal_id: &'a str,
    /// User or group.
    pub principal_type: &'a PrincipalType,
}

/// `ListAssignments` list member.
pub const ASSIGNMENTS_ITEMS: &str = "assignments";

/// A subscription assignment **[assumed operation and shape]**.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The principal.
    pub principal_id: String,
    /// User or group.
    pub principal_type: PrincipalType,
    /// The tier.
    pub subscription_type: SubscriptionType,
    /// In force or cancelled.
    pub status: AssignmentStatus,
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn operation_table_is_complete_and_unique() {
        let mut names: Vec<&str> = OPERATIONS.iter().map(|op| op.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len());
        let profiles: Vec<&str> = OPERATIONS
            .iter()
            .filter(|op| op.service == KiroService::Profiles)
            .map(|op| op.name)
            .collect();
        assert_eq!(
            profiles,
            [
                "CreateProfile",
                "ListProfiles",
                "UpdateProfile",
                "DeleteProfile",
                "TagResource",
                "UntagResource",
                "ListTagsForResource"
            ]
        );
    }

    #[test]
    fn create_profile_serializes_camel_case_and_omits_empty_members() {
        let req = CreateProfile::new(
            "kiro",
            IdentitySource::external("https://issuer/v2.0", "cid", None),
        )
        .client_token("tok-1");
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({
                "profileName": "kiro",
                "identitySource": {"externalIdentityProvider":
                    {"issuerUrl": "https://issuer/v2.0", "clientId": "cid"}},
                "clientToken": "tok-1",
            })
        );
        let a = CreateProfile::new("a", req.identity_source.clone());
        let b = CreateProfile::new("a", req.identity_source.clone());
        assert_ne!(
            a.client_token, b.client_token,
            "each new request gets its own token"
        );
    }

    #[test]
    fn timestamps_are_epoch_seconds_integer_or_fractional() {
        let token: ScimAccessToken = serde_json::from_value(json!({
            "tokenId": "t", "createdAt": 1_704_164_645, "expiresAt": 1_704_164_645.5,
            "lastUsedAt": null, "somethingNew": [1, 2]
        }))
        .unwrap();
        assert_eq!(token.created_at, datetime!(2024-01-02 03:04:05 UTC));
        assert_eq!(token.expires_at, datetime!(2024-01-02 03:04:05.5 UTC));
        assert_eq!(token.last_used_at, None);
        let bad = serde_json::from_value::<ScimAccessToken>(json!({
            "tokenId": "t", "createdAt": "yesterday", "expiresAt": 1
        }));
        assert!(bad.is_err());
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let status: ProfileStatus = serde_json::from_value(json!("SUSPENDED")).unwrap();
        assert_eq!(status, ProfileStatus::Unknown("SUSPENDED".into()));
        assert_eq!(status.to_string(), "SUSPENDED");
        assert_eq!(
            serde_json::to_value(SubscriptionType::KiroProPlus).unwrap(),
            json!("KIRO_PRO_PLUS")
        );
        assert_eq!(PrincipalType::from_wire("GROUP"), PrincipalType::Group);
    }
}
