//! Deterministic seed data for each tenant: a handful of users and groups (one nested), and
//! the constructors the control API uses to add more.

use std::time::Instant;

use rand::Rng;
use serde::Serialize;

use crate::state::new_guid;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub user_principal_name: String,
    pub mail: String,
    pub mail_nickname: String,
    pub account_enabled: bool,
    pub user_type: String,
    /// Graph's `department`; absent from the JSON when unset, as Graph leaves out empty
    /// properties of a seeded user here. Kiro's SCIM endpoint rejects the enterprise
    /// `department`, so a job that keeps that template mapping fails for such a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// When Graph reads first see the user (replication lag).
    #[serde(skip)]
    pub visible_at: Instant,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub mail_nickname: String,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    pub group_types: Vec<String>,
    /// Direct member object ids (users or groups).
    #[serde(skip)]
    pub members: Vec<String>,
    /// When Graph reads first see the group (replication lag).
    #[serde(skip)]
    pub visible_at: Instant,
}

impl User {
    /// A member user named `display_name` whose user principal name is made from the name
    /// on `domain` (`Frank Ocean` → `frank.ocean@domain`); `taken` says which names are in
    /// use, and a number is appended until the name is free.
    pub fn named(
        id: String,
        display_name: &str,
        domain: &str,
        taken: impl Fn(&str) -> bool,
        visible_at: Instant,
    ) -> User {
        let words: Vec<String> = display_name
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect::<String>()
                    .to_ascii_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
        let base = if words.is_empty() {
            "user".to_string()
        } else {
            words.join(".")
        };
        let mut nick = base.clone();
        let mut n = 1;
        while taken(&format!("{nick}@{domain}")) {
            n += 1;
            nick = format!("{base}{n}");
        }
        let mut names = display_name.split_whitespace();
        let given = names.next().unwrap_or_default().to_string();
        let surname = names.collect::<Vec<_>>().join(" ");
        User {
            id,
            display_name: display_name
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            given_name: given,
            surname,
            user_principal_name: format!("{nick}@{domain}"),
            mail: format!("{nick}@{domain}"),
            mail_nickname: nick,
            account_enabled: true,
            user_type: "Member".to_string(),
            department: None,
            visible_at,
        }
    }
}

impl Group {
    /// A security group (not mail-enabled, not Microsoft 365) with these direct members.
    pub fn security(
        id: String,
        display_name: &str,
        description: &str,
        members: Vec<String>,
        visible_at: Instant,
    ) -> Group {
        Group {
            id,
            display_name: display_name.to_string(),
            description: description.to_string(),
            mail_nickname: display_name.to_ascii_lowercase().replace(' ', "-"),
            security_enabled: true,
            mail_enabled: false,
            group_types: Vec::new(),
            members,
            visible_at,
        }
    }
}

const GIVEN: [&str; 5] = ["Alice", "Bob", "Carol", "Dave", "Erin"];
const SURNAMES: [&str; 8] = [
    "Anders", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes",
];

/// The one seeded user with a department, and that department: a provisioning job that keeps
/// the template's enterprise `department` mapping makes Kiro reject her, and only her.
pub const USER_WITH_DEPARTMENT: (&str, &str) = ("Erin", "Platform");

/// Five users (alice…erin) and three groups: "Kiro Developers" (alice, bob, carol),
/// "Kiro Admins" (dave, erin) and "Engineering" (the developers group, nested, plus dave).
/// Only erin has a department ([`USER_WITH_DEPARTMENT`]).
pub fn people(rng: &mut impl Rng, domain: &str) -> (Vec<User>, Vec<Group>) {
    let now = Instant::now();
    let users: Vec<User> = GIVEN
        .iter()
        .map(|given| {
            let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
            let nick = given.to_ascii_lowercase();
            User {
                id: new_guid(rng),
                display_name: format!("{given} {surname}"),
                given_name: given.to_string(),
                surname: surname.to_string(),
                user_principal_name: format!("{nick}@{domain}"),
                mail: format!("{nick}@{domain}"),
                mail_nickname: nick,
                account_enabled: true,
                user_type: "Member".to_string(),
                department: (*given == USER_WITH_DEPARTMENT.0)
                    .then(|| USER_WITH_DEPARTMENT.1.to_string()),
                visible_at: now,
            }
        })
        .collect();
    let ids = |idx: &[usize]| idx.iter().map(|i| users[*i].id.clone()).collect::<Vec<_>>();
    let mut group = |name: &str, description: &str, members: Vec<String>| {
        Group::security(new_guid(rng), name, description, members, now)
    };
    let developers = group("Kiro Developers", "Developers using Kiro", ids(&[0, 1, 2]));
    let admins = group("Kiro Admins", "Kiro administrators", ids(&[3, 4]));
    let mut engineering_members = vec![developers.id.clone()];
    engineering_members.extend(ids(&[3]));
    let engineering = group(
        "Engineering",
        "All engineering (nested group)",
        engineering_members,
    );
    (users, vec![developers, admins, engineering])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn seed_is_deterministic_and_consistent() {
        let (u1, g1) = people(&mut StdRng::seed_from_u64(3), "x.onmicrosoft.com");
        let (u2, g2) = people(&mut StdRng::seed_from_u64(3), "x.onmicrosoft.com");
        assert_eq!(u1[0].id, u2[0].id);
        assert_eq!(g1[2].members, g2[2].members);
        assert_eq!(u1[0].user_principal_name, "alice@x.onmicrosoft.com");
        assert_eq!(
            g1[2].members[0], g1[0].id,
            "Engineering nests Kiro Developers"
        );
        let with_department: Vec<(&str, Option<&str>)> = u1
            .iter()
            .filter(|u| u.department.is_some())
            .map(|u| (u.given_name.as_str(), u.department.as_deref()))
            .collect();
        assert_eq!(with_department, [("Erin", Some("Platform"))]);
        let json = serde_json::to_value(&u1[0]).unwrap();
        assert!(
            json.get("department").is_none(),
            "absent when unset: {json}"
        );
        assert_eq!(
            serde_json::to_value(&u1[4]).unwrap()["department"],
            "Platform"
        );
    }

    #[test]
    fn user_principal_names_come_from_the_display_name_and_stay_unique() {
        let taken = |upn: &str| upn == "frank.ocean@x.test" || upn == "frank.ocean2@x.test";
        let u = User::named(
            "id".into(),
            " Frank  Ocean ",
            "x.test",
            taken,
            Instant::now(),
        );
        assert_eq!(u.user_principal_name, "frank.ocean3@x.test");
        assert_eq!(
            (u.given_name.as_str(), u.surname.as_str()),
            ("Frank", "Ocean")
        );
        assert_eq!(u.display_name, "Frank Ocean");
        let u = User::named(
            "id".into(),
            "Zoë O'Neil",
            "x.test",
            |_| false,
            Instant::now(),
        );
        assert_eq!(u.user_principal_name, "zo.oneil@x.test");
        let u = User::named("id".into(), "!!!", "x.test", |_| false, Instant::now());
        assert_eq!(u.user_principal_name, "user@x.test");
    }
}
