//! What Kiro's SCIM endpoint refuses, for the provisioning set-up to leave out
//! (`kiro-api.md`, "The SCIM endpoint"): the enterprise extension's `employeeNumber`,
//! `department` and `manager`, and every `phoneNumbers` value — 400 `invalidValue`, which
//! makes Entra's provisioning fail for the user.

/// The SCIM enterprise user extension's URN.
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const REJECTED_ENTERPRISE: &[&str] = &["employeeNumber", "department", "manager"];

/// True when Kiro rejects a user attribute mapped to `target` (a SCIM attribute path as
/// Entra names mapping targets, e.g. `phoneNumbers[type eq "work"].value` or
/// `urn:…:enterprise:2.0:User:department`). Compared case-insensitively, as SCIM does.
pub fn rejects_user_attribute(target: &str) -> bool {
    let target = target.trim();
    let lower = target.to_ascii_lowercase();
    if lower == "phonenumbers"
        || lower.starts_with("phonenumbers[")
        || lower.starts_with("phonenumbers.")
    {
        return true;
    }
    let Some(attribute) = lower
        .strip_prefix(&ENTERPRISE.to_ascii_lowercase())
        .and_then(|rest| rest.strip_prefix(':'))
    else {
        return false;
    };
    let attribute = attribute.split('.').next().unwrap_or_default();
    REJECTED_ENTERPRISE
        .iter()
        .any(|r| r.eq_ignore_ascii_case(attribute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attributes_kiro_rejects() {
        for target in [
            "phoneNumbers[type eq \"work\"].value",
            "phoneNumbers[type eq \"mobile\"].value",
            "PhoneNumbers",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert!(rejects_user_attribute(target), "{target}");
        }
        for target in [
            "externalId",
            "userName",
            "emails[type eq \"work\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            "title",
        ] {
            assert!(!rejects_user_attribute(target), "{target}");
        }
    }
}
