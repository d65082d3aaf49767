//! Taking over an object that a create finds already made.
//!
//! An apply killed after a create reached the service, but before Terraform saved
//! state, leaves an object that no state knows. When the object is unique by a natural
//! key under a parent the configuration names — a scope's value on an application, a
//! redirect URI, the assignment of a principal and role, a domain on a profile, a
//! principal's subscription — the next create finds it by that key and takes it over
//! instead of failing with "already exists", and says so with a warning. An object
//! found only by a name that many may share (an application's display name, a
//! profile's name) is never taken over: its create stops with the import command.

use crate::clients::Clients;
use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics};
use crate::framework::managed::Operation;

/// One object's natural key under its parent, and how to name it to a person.
pub struct NaturalKey {
    /// The resource type that claims it, e.g. `kiro_entra_api_scope`.
    pub type_name: &'static str,
    /// The parent and key, e.g. `<application id>/codewhisperer:completions`.
    pub key: String,
    /// The object in words, e.g. `the scope "codewhisperer:completions" of application …`.
    pub described: String,
    /// The argument that names the object in the configuration.
    pub at: AttrPath,
}

impl NaturalKey {
    /// Claims the key for this create. A second resource of the same configuration
    /// naming the same object is refused here, before any request, so that one
    /// object never ends up under two resources.
    pub fn claim(&self, clients: &Clients) -> Result<(), Diagnostics> {
        if clients
            .claims
            .claim(format!("{}|{}", self.type_name, self.key))
        {
            return Ok(());
        }
        Err(Diagnostic::error(
            "Two resources name the same object",
            format!(
                "Another {} resource of this configuration already manages {}. One remote \
                 object can be managed by one resource only: remove one of the two.",
                self.type_name, self.described
            ),
        )
        .at(self.at.clone())
        .into())
    }

    /// Records, as a warning the person running Terraform sees, that the create took
    /// over `self`'s object (`id`) instead of making a new one.
    pub fn took_over(&self, op: &Operation, id: &str) {
        tracing::info!(key = %self.key, %id, "taking over {}", self.described);
        op.warn(
            Diagnostic::warning(
                "Took over an object that already existed",
                format!(
                    "{} already existed (id {id}), so this {} manages it now instead of \
                     making a second one. This happens when an earlier apply was interrupted \
                     after making the object and before saving it in state. Its arguments are \
                     set as configured; a destroy removes it.",
                    capitalized(&self.described),
                    self.type_name
                ),
            )
            .at(self.at.clone()),
        );
    }

    /// Says at plan time that the planned create will take over `id`: right after an
    /// interrupted apply that is what is wanted, but if another resource of this
    /// configuration manages the object, the person approving the plan must see it now.
    pub fn will_take_over(&self, id: &str, diagnostics: &mut Diagnostics) {
        diagnostics.push(
            Diagnostic::warning(
                "This create will take over an object that exists",
                format!(
                    "{} exists (id {id}) and no state of this resource knows it, so the \
                     apply takes it over instead of making a second one. That is right when \
                     an earlier apply was interrupted after making it. If another resource of \
                     this configuration manages it, remove one of the two.",
                    capitalized(&self.described)
                ),
            )
            .at(self.at.clone()),
        );
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::Claims;

    #[test]
    fn a_natural_key_is_claimed_once_per_process() {
        let claims = Claims::default();
        assert!(claims.claim("kiro_entra_api_scope|app/x".into()));
        assert!(!claims.claim("kiro_entra_api_scope|app/x".into()));
        assert!(claims.claim("kiro_entra_api_scope|app/y".into()));
    }

    #[test]
    fn capitalizes_the_first_letter_only() {
        assert_eq!(
            capitalized("the scope \"x\" of application a"),
            "The scope \"x\" of application a"
        );
        assert_eq!(capitalized(""), "");
    }
}
