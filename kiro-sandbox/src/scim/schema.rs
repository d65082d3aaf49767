//! The attributes Kiro's SCIM endpoint accepts, as one table that serves `/Schemas` and drives
//! validation, PATCH path resolution and filter matching, so what is published is what is
//! enforced. Attributes Kiro rejects (`phoneNumbers`, the enterprise `employeeNumber`,
//! `department`, `manager`) are deliberately not published (kiro-api.md, "The SCIM endpoint").

use serde_json::{Map, Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Page size when a list request names no `count`, and the most one page holds.
pub const MAX_RESULTS: usize = 100;

/// User attributes Kiro answers with 400 `invalidValue`, by (schema, attribute).
pub const REJECTED_USER_ATTRIBUTES: [(&str, &str); 4] = [
    (USER_SCHEMA, "phoneNumbers"),
    (ENTERPRISE_SCHEMA, "employeeNumber"),
    (ENTERPRISE_SCHEMA, "department"),
    (ENTERPRISE_SCHEMA, "manager"),
];

/// User attributes Kiro keeps at most one value of.
pub const SINGLE_VALUED_USER_ATTRIBUTES: [&str; 2] = ["emails", "addresses"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Complex,
    Reference,
    /// Base64 text (RFC 7643 §2.3.6), e.g. an X.509 certificate's DER.
    Binary,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: &'static str,
    pub returned: &'static str,
    pub uniqueness: &'static str,
    pub sub: &'static [Attr],
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
}

impl Attr {
    const fn of(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            multi: false,
            required: false,
            case_exact: false,
            mutability: "readWrite",
            returned: "default",
            uniqueness: "none",
            sub: &[],
            canonical: &[],
            reference_types: &[],
        }
    }
    const fn string(name: &'static str) -> Self {
        Self::of(name, Kind::String)
    }
    const fn boolean(name: &'static str) -> Self {
        Self::of(name, Kind::Boolean)
    }
    const fn reference(name: &'static str, types: &'static [&'static str]) -> Self {
        let mut a = Self::of(name, Kind::Reference);
        a.reference_types = types;
        a
    }
    const fn complex(name: &'static str, sub: &'static [Attr]) -> Self {
        let mut a = Self::of(name, Kind::Complex);
        a.sub = sub;
        a
    }
    const fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn unique(mut self) -> Self {
        self.uniqueness = "server";
        self
    }
    const fn immutable(mut self) -> Self {
        self.mutability = "immutable";
        self
    }
    const fn read_only(mut self) -> Self {
        self.mutability = "readOnly";
        self
    }
    /// Accepted on writes, never returned (RFC 7643 §4.1.1 `password`).
    const fn write_only(mut self) -> Self {
        self.mutability = "writeOnly";
        self.returned = "never";
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }

    /// The sub-attribute called `name`, in any case.
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": match self.kind {
                Kind::String => "string",
                Kind::Boolean => "boolean",
                Kind::Complex => "complex",
                Kind::Reference => "reference",
                Kind::Binary => "binary",
            },
            "multiValued": self.multi,
            "description": self.name,
            "required": self.required,
            "mutability": self.mutability,
            "returned": self.returned,
        });
        if matches!(self.kind, Kind::String | Kind::Reference | Kind::Binary) {
            v["caseExact"] = json!(self.case_exact);
            v["uniqueness"] = json!(self.uniqueness);
        }
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = self.sub.iter().map(Attr::to_json).collect();
        }
        v
    }
}

/// `externalId`, common to every resource (RFC 7643 §3.1); Kiro makes it immutable once set.
pub static EXTERNAL_ID: Attr = Attr::string("externalId").case_exact().immutable();

const TYPES: &[&str] = &["work", "home", "other"];

static NAME_SUB: [Attr; 6] = [
    Attr::string("formatted"),
    Attr::string("familyName"),
    Attr::string("givenName"),
    Attr::string("middleName"),
    Attr::string("honorificPrefix"),
    Attr::string("honorificSuffix"),
];

static EMAIL_SUB: [Attr; 4] = [
    Attr::string("value"),
    Attr::string("display"),
    Attr::string("type").canonical(TYPES),
    Attr::boolean("primary"),
];

static ADDRESS_SUB: [Attr; 8] = [
    Attr::string("formatted"),
    Attr::string("streetAddress"),
    Attr::string("locality"),
    Attr::string("region"),
    Attr::string("postalCode"),
    Attr::string("country"),
    Attr::string("type").canonical(TYPES),
    Attr::boolean("primary"),
];

/// The `value`/`display`/`type`/`primary` shape RFC 7643 §4.1.2 gives most multi-valued
/// attributes, with `value` of `kind` and `type`'s canonical values.
const fn plural_sub(value: Attr, types: &'static [&'static str]) -> [Attr; 4] {
    [
        value,
        Attr::string("display"),
        Attr::string("type").canonical(types),
        Attr::boolean("primary"),
    ]
}

static IM_SUB: [Attr; 4] = plural_sub(
    Attr::string("value"),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
static PHOTO_SUB: [Attr; 4] = plural_sub(
    Attr::reference("value", &["external"]),
    &["photo", "thumbnail"],
);
static ENTITLEMENT_SUB: [Attr; 4] = plural_sub(Attr::string("value"), &[]);
static ROLE_SUB: [Attr; 4] = plural_sub(Attr::string("value"), &[]);
static CERTIFICATE_SUB: [Attr; 4] = plural_sub(Attr::of("value", Kind::Binary), &[]);

/// A user's groups (RFC 7643 §4.1.2): read-only, derived from the groups' members.
static USER_GROUP_SUB: [Attr; 4] = [
    Attr::string("value").read_only(),
    Attr::reference("$ref", &["User", "Group"]).read_only(),
    Attr::string("display").read_only(),
    Attr::string("type")
        .canonical(&["direct", "indirect"])
        .read_only(),
];

/// RFC 7643 §4.1's core User attributes except `phoneNumbers`, which Kiro rejects
/// ([`REJECTED_USER_ATTRIBUTES`]).
static USER_ATTRS: [Attr; 20] = [
    Attr::string("userName").required().unique(),
    Attr::complex("name", &NAME_SUB),
    Attr::string("displayName"),
    Attr::string("nickName"),
    Attr::reference("profileUrl", &["external"]),
    Attr::string("title"),
    Attr::string("userType"),
    Attr::string("preferredLanguage"),
    Attr::string("locale"),
    Attr::string("timezone"),
    Attr::boolean("active"),
    Attr::string("password").write_only(),
    Attr::complex("emails", &EMAIL_SUB).multi(),
    Attr::complex("ims", &IM_SUB).multi(),
    Attr::complex("photos", &PHOTO_SUB).multi(),
    Attr::complex("addresses", &ADDRESS_SUB).multi(),
    Attr::complex("groups", &USER_GROUP_SUB).multi().read_only(),
    Attr::complex("entitlements", &ENTITLEMENT_SUB).multi(),
    Attr::complex("roles", &ROLE_SUB).multi(),
    Attr::complex("x509Certificates", &CERTIFICATE_SUB).multi(),
];

static ENTERPRISE_ATTRS: [Attr; 3] = [
    Attr::string("costCenter"),
    Attr::string("organization"),
    Attr::string("division"),
];

static MEMBER_SUB: [Attr; 4] = [
    Attr::string("value").case_exact().immutable(),
    Attr::reference("$ref", &["User"]).immutable(),
    Attr::string("display").read_only(),
    Attr::string("type").canonical(&["User"]).immutable(),
];

static GROUP_ATTRS: [Attr; 2] = [
    Attr::string("displayName").required().unique(),
    Attr::complex("members", &MEMBER_SUB).multi(),
];

/// The two resource types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }

    /// The endpoint, without its slash.
    pub fn endpoint(self) -> &'static str {
        match self {
            Resource::User => "Users",
            Resource::Group => "Groups",
        }
    }

    pub fn schema(self) -> &'static str {
        match self {
            Resource::User => USER_SCHEMA,
            Resource::Group => GROUP_SCHEMA,
        }
    }

    pub fn attrs(self) -> &'static [Attr] {
        match self {
            Resource::User => &USER_ATTRS,
            Resource::Group => &GROUP_ATTRS,
        }
    }

    /// The extension schema this resource may carry, with its attributes.
    pub fn extension(self) -> Option<(&'static str, &'static [Attr])> {
        match self {
            Resource::User => Some((ENTERPRISE_SCHEMA, &ENTERPRISE_ATTRS)),
            Resource::Group => None,
        }
    }

    /// A core attribute (including `externalId`) by name, in any case.
    pub fn attr(self, name: &str) -> Option<&'static Attr> {
        if EXTERNAL_ID.name.eq_ignore_ascii_case(name) {
            return Some(&EXTERNAL_ID);
        }
        self.attrs()
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attributes a list filter may name (kiro-api.md: `userName`, `externalId`,
    /// `displayName`, `id`), as they are spelled in the documents.
    pub fn filterable(self) -> &'static [&'static str] {
        match self {
            Resource::User => &["userName", "externalId", "displayName", "id"],
            Resource::Group => &["externalId", "displayName", "id"],
        }
    }
}

fn schema_json(id: &str, name: &str, attrs: &[Attr], base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": format!("{name} as Kiro's SCIM endpoint accepts it"),
        "attributes": attrs.iter().map(Attr::to_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// Every schema `/Schemas` lists.
pub fn schemas(base: &str) -> Vec<Value> {
    let mut user_attrs = vec![&EXTERNAL_ID];
    user_attrs.extend(USER_ATTRS.iter());
    let mut group_attrs = vec![&EXTERNAL_ID];
    group_attrs.extend(GROUP_ATTRS.iter());
    let list = |attrs: Vec<&Attr>| attrs.into_iter().map(Attr::to_json).collect::<Vec<_>>();
    let mut user = schema_json(USER_SCHEMA, "User", &[], base);
    user["attributes"] = json!(list(user_attrs));
    let mut group = schema_json(GROUP_SCHEMA, "Group", &[], base);
    group["attributes"] = json!(list(group_attrs));
    vec![
        user,
        group,
        schema_json(ENTERPRISE_SCHEMA, "EnterpriseUser", &ENTERPRISE_ATTRS, base),
    ]
}

/// Every resource type `/ResourceTypes` lists.
pub fn resource_types(base: &str) -> Vec<Value> {
    [Resource::User, Resource::Group]
        .into_iter()
        .map(|r| {
            let mut v = json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": r.name(),
                "name": r.name(),
                "endpoint": format!("/{}", r.endpoint()),
                "description": format!("{} provisioned into Kiro", r.endpoint()),
                "schema": r.schema(),
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", r.name())},
            });
            if let Some((urn, _)) = r.extension() {
                v["schemaExtensions"] = json!([{"schema": urn, "required": false}]);
            }
            v
        })
        .collect()
}

/// `/ServiceProviderConfig`: PATCH and filters (at most [`MAX_RESULTS`]); no bulk, sort,
/// change of password or ETags.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [CONFIG_SCHEMA],
        "documentationUri": "https://kiro.dev/docs/",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A SCIM access token of the Kiro profile, sent as a bearer token",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// A `ListResponse` of one page.
pub fn list_response(items: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": items.len(),
        "startIndex": start_index,
        "Resources": items,
    })
}

/// Looks `key` up in `map` in any case (SCIM attribute names are case-insensitive).
pub fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}
