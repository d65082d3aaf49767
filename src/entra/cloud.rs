//! Entra ID / Microsoft Graph national clouds.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// A Microsoft cloud: picks the login authority, the Graph host and the non-gallery template.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Environment {
    /// The global (public) cloud.
    #[default]
    Global,
    /// Azure US Government (Graph L4 host `graph.microsoft.us`).
    UsGovernment,
    /// Azure China (operated by 21Vianet).
    China,
}

/// `environment` was not one of `global`, `usgovernment`, `china`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?}: expected one of \"global\", \"usgovernment\", \"china\"")]
pub struct UnknownEnvironment(pub String);

impl Environment {
    /// All environments, in documentation order.
    pub const ALL: [Environment; 3] = [Self::Global, Self::UsGovernment, Self::China];

    /// Parses `global`, `usgovernment` or `china` (case-insensitive, surrounding blanks ignored).
    pub fn parse(value: &str) -> Result<Self, UnknownEnvironment> {
        match value.trim().to_ascii_lowercase().as_str() {
            "global" => Ok(Self::Global),
            "usgovernment" => Ok(Self::UsGovernment),
            "china" => Ok(Self::China),
            _ => Err(UnknownEnvironment(value.to_string())),
        }
    }

    /// The configuration name (`global`, `usgovernment`, `china`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::UsGovernment => "usgovernment",
            Self::China => "china",
        }
    }

    /// The login authority host, e.g. `https://login.microsoftonline.com`.
    pub fn authority_host(self) -> Url {
        parse_static(match self {
            Self::Global => "https://login.microsoftonline.com",
            Self::UsGovernment => "https://login.microsoftonline.us",
            Self::China => "https://login.chinacloudapi.cn",
        })
    }

    /// The Microsoft Graph endpoint (without `/v1.0`).
    pub fn graph_endpoint(self) -> Url {
        parse_static(self.graph_resource())
    }

    /// The OAuth scope for Graph (`<graph resource>/.default`). This is the real Graph resource
    /// even when the Graph endpoint is overridden (private endpoints, the sandbox).
    pub fn graph_scope(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com/.default",
            Self::UsGovernment => "https://graph.microsoft.us/.default",
            Self::China => "https://microsoftgraph.chinacloudapi.cn/.default",
        }
    }

    /// Host of the token issuer that Kiro must trust (`https://<host>/<tenant>/v2.0`).
    pub fn issuer_host(self) -> &'static str {
        match self {
            Self::Global => "login.microsoftonline.com",
            Self::UsGovernment => "login.microsoftonline.us",
            Self::China => "login.chinacloudapi.cn",
        }
    }

    /// The v2 issuer URL for a tenant: `https://<issuer host>/<tenant>/v2.0`.
    pub fn issuer_url(self, tenant_id: &str) -> String {
        format!("https://{}/{tenant_id}/v2.0", self.issuer_host())
    }

    /// The "OpenID Connect metadata document" URL for a tenant.
    pub fn openid_configuration_url(self, tenant_id: &str) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer_url(tenant_id)
        )
    }

    /// The "non-gallery application" template id in this cloud.
    pub fn non_gallery_template_id(self) -> &'static str {
        match self {
            Self::Global => "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            Self::UsGovernment => "4602d0b4-76bb-404b-bca9-2652e1a39c6d",
            Self::China => "5a532e38-1581-4918-9658-008dc27c1d68",
        }
    }

    fn graph_resource(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com",
            Self::UsGovernment => "https://graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

fn parse_static(s: &'static str) -> Url {
    Url::parse(s).expect("static URL is valid")
}

impl FromStr for Environment {
    type Err = UnknownEnvironment;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_endpoints() {
        assert_eq!(Environment::parse("Global"), Ok(Environment::Global));
        assert_eq!(
            Environment::parse(" usgovernment "),
            Ok(Environment::UsGovernment)
        );
        assert_eq!("china".parse(), Ok(Environment::China));
        assert!(Environment::parse("public").is_err());
        for env in Environment::ALL {
            assert_eq!(Environment::parse(env.as_str()), Ok(env));
            assert_eq!(env.authority_host().scheme(), "https");
            assert!(env.graph_scope().ends_with("/.default"));
            assert!(env.graph_scope().starts_with(env.graph_endpoint().as_str()));
        }
        assert_eq!(
            Environment::Global.authority_host().as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(
            Environment::China.graph_endpoint().as_str(),
            "https://microsoftgraph.chinacloudapi.cn/"
        );
        assert_eq!(
            Environment::UsGovernment.openid_configuration_url("t1"),
            "https://login.microsoftonline.us/t1/v2.0/.well-known/openid-configuration"
        );
        assert_eq!(
            Environment::Global.non_gallery_template_id(),
            "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
        );
    }
}
