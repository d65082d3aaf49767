//! Write-only attributes and the Terraform clients that cannot hold them.
//!
//! Only Terraform 1.11 and later keep a write-only value out of the plan and state and accept
//! it back as null; they say so with `write_only_attributes_allowed`. An older client treats
//! the attribute as an ordinary one: it would write the secret into its plan, then fail when
//! the provider answers null. So a configuration that sets one is refused at validation, on
//! that attribute, naming what to set instead.
//!
//! What to set instead is what the resource already declares: the other attributes of the
//! rules ([`ConfigRule`]) that let one of several be set (`ExactlyOneOf`, `AtMostOneOf`,
//! `AtLeastOneOf`). An attribute in no such rule gets a plain refusal.

use super::diag::{AttrPath, Diagnostic, Diagnostics, PathStep};
use super::rpc::ClientCapabilities;
use super::schema::Block;
use super::validators::{ConfigRule, RuleKind};
use super::value::TfValue;

const SUMMARY: &str = "Write-only attribute needs Terraform 1.11 or later";

/// When the client cannot hold write-only values, every write-only attribute the
/// configuration sets (an unknown value will be set) gets an error on it.
pub fn refuse_for_client(
    client: ClientCapabilities,
    block: &Block,
    config: &TfValue,
    diags: &mut Diagnostics,
) {
    if client.write_only_attributes_allowed {
        return;
    }
    let mut paths = Vec::new();
    set_write_only(block, config, &AttrPath::root(), &mut paths);
    for path in paths {
        let instead = alternatives(block, &path);
        let advice = if instead.is_empty() {
            "Upgrade Terraform to 1.11 or later.".to_string()
        } else {
            format!(
                "Set {} instead, or upgrade Terraform to 1.11 or later.",
                instead.join(" or ")
            )
        };
        diags.push(
            Diagnostic::error(
                SUMMARY,
                format!(
                    "`{path}` is write-only: only Terraform 1.11 or later keeps it out of the \
                     plan and state, and this Terraform did not say it can. {advice}"
                ),
            )
            .at(path),
        );
    }
}

/// The other attributes of the root rules that let one of several stand in for `path`.
fn alternatives(block: &Block, path: &AttrPath) -> Vec<String> {
    // Only a root attribute's rules are the resource's; one inside a nested block has none.
    let [PathStep::Attribute(name)] = path.0.as_slice() else {
        return Vec::new();
    };
    let choices = |rule: &&ConfigRule| {
        matches!(
            rule.kind,
            RuleKind::ExactlyOneOf | RuleKind::AtMostOneOf | RuleKind::AtLeastOneOf
        ) && rule.attributes.contains(&name.as_str())
    };
    let mut out: Vec<String> = Vec::new();
    for rule in block.rules.iter().filter(choices) {
        for other in rule.attributes.iter().filter(|n| **n != name.as_str()) {
            let text = if block.get_block(other).is_some() {
                format!("a `{other} {{}}` block")
            } else {
                format!("`{other}`")
            };
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// The paths of the write-only attributes `value` sets, in `block` and its nested blocks.
fn set_write_only(block: &Block, value: &TfValue, path: &AttrPath, out: &mut Vec<AttrPath>) {
    block.walk(value, path, &mut |block, value, path| {
        for a in block.attributes.iter().filter(|a| a.write_only) {
            if value.get_attr(&a.name).is_some_and(|v| !v.is_null()) {
                out.push(path.then_attr(a.name.clone()));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock, Nesting};

    fn block() -> Block {
        Block::new("a thing")
            .rule(ConfigRule::new(
                RuleKind::ExactlyOneOf,
                vec!["secret", "secret_wo", "minted"],
            ))
            .attribute(Attribute::string("secret").optional())
            .attribute(Attribute::string("secret_wo").optional().write_only())
            .attribute(Attribute::string("other_wo").optional().write_only())
            .block(NestedBlock::new(
                "minted",
                Nesting::Single,
                Block::new("minted").attribute(Attribute::string("note").optional()),
            ))
    }

    fn config(secret_wo: TfValue, other_wo: TfValue) -> TfValue {
        TfValue::object([
            ("secret", TfValue::Null),
            ("secret_wo", secret_wo),
            ("other_wo", other_wo),
            ("minted", TfValue::Null),
        ])
    }

    /// What validation reports: the refusal, then the block's own rules.
    fn run(client: ClientCapabilities, config: &TfValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        refuse_for_client(client, &block(), config, &mut diags);
        crate::framework::runtime::validate_block(&block(), config, &AttrPath::root(), &mut diags);
        diags
    }

    const OLD: ClientCapabilities = ClientCapabilities {
        write_only_attributes_allowed: false,
    };
    const NEW: ClientCapabilities = ClientCapabilities {
        write_only_attributes_allowed: true,
    };

    #[test]
    fn a_client_that_can_hold_write_only_values_gets_the_usual_checks_only() {
        let set = config(TfValue::string("s"), TfValue::Null);
        assert!(run(NEW, &set).is_empty());
        let unset = config(TfValue::Null, TfValue::Null);
        let diags = run(NEW, &unset);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].summary, "Missing argument");
    }

    #[test]
    fn an_older_client_is_refused_on_the_attribute_with_the_group_as_alternatives() {
        let diags = run(OLD, &config(TfValue::string("s"), TfValue::Null));
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        let d = &diags.0[0];
        assert_eq!(d.summary, SUMMARY);
        assert_eq!(d.attribute, Some(AttrPath::attr("secret_wo")));
        assert!(
            d.detail
                .contains("Set `secret` or a `minted {}` block instead"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn an_unknown_write_only_value_is_refused_too_and_an_ungrouped_one_plainly() {
        let diags = run(OLD, &config(TfValue::unknown(), TfValue::string("o")));
        let paths: Vec<_> = diags.0.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            paths,
            [
                Some(AttrPath::attr("secret_wo")),
                Some(AttrPath::attr("other_wo"))
            ]
        );
        assert!(diags.0[1].detail.contains("Upgrade Terraform to 1.11"));
        assert!(diags.0.iter().all(|d| d.summary == SUMMARY));
    }

    #[test]
    fn nothing_is_refused_when_no_write_only_attribute_is_set() {
        let diags = run(
            OLD,
            &TfValue::object([
                ("secret", TfValue::string("s")),
                ("secret_wo", TfValue::Null),
                ("other_wo", TfValue::Null),
                ("minted", TfValue::Null),
            ]),
        );
        assert!(diags.is_empty(), "{diags:?}");
    }
}
