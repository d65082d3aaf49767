//! Deterministic seed data for each tenant: a handful of users and groups (one nested).

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
}

const GIVEN: [&str; 5] = ["Alice", "Bob", "Carol", "Dave", "Erin"];
const SURNAMES: [&str; 8] = [
    "Anders", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes",
];

/// Five users (alice…erin) and three groups: "Kiro Developers" (alice, bob, carol),
/// "Kiro Admins" (dave, erin) and "Engineering" (the developers group, nested, plus dave).
pub fn people(rng: &mut impl Rng, domain: &str) -> (Vec<User>, Vec<Group>) {
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
            }
        })
        .collect();
    let ids = |idx: &[usize]| idx.iter().map(|i| users[*i].id.clone()).collect::<Vec<_>>();
    let mut group = |name: &str, description: &str, members: Vec<String>| Group {
        id: new_guid(rng),
        display_name: name.to_string(),
        description: description.to_string(),
        mail_nickname: name.to_ascii_lowercase().replace(' ', "-"),
        security_enabled: true,
        mail_enabled: false,
        group_types: Vec::new(),
        members,
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
    }
}
