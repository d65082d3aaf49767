//! Write-only attributes and the Terraform clients that cannot hold them.
//!
//! Only Terraform 1.11 and later keep a write-only value out of the plan and state and accept
//! it back as null; they say so with `write_only_attributes_allowed`. An older client treats
//! the attribute as an ordinary one: it would write the secret into its plan, then fail when
//! the provider answers null. So a configuration that sets one is refused at validation, on
//! that attribute, naming what to set instead.
//!
//! What to set instead is what the resource already declares: the other members of the
//! [`exactly_one_of`](super::validators::exactly_one_of) group the attribute belongs to. While
//! a resource's own `validate` runs (synchronously, on one thread), the attributes to refuse
//! are kept in a thread-local so that the group check can report them; an attribute in no
//! group gets a plain refusal.

use std::cell::RefCell;

use super::diag::{AttrPath, Diagnostic, Diagnostics, Severity};
use super::rpc::ClientCapabilities;
use super::schema::Block;
use super::value::TfValue;

const SUMMARY: &str = "Write-only attribute needs Terraform 1.11 or later";

struct Refusal {
    /// The write-only attributes the configuration sets (an unknown value will be set).
    paths: Vec<AttrPath>,
    /// The resource's nested block types, so an alternative reads `name {}` when it is one.
    blocks: Vec<String>,
}

thread_local! {
    static REFUSING: RefCell<Option<Refusal>> = const { RefCell::new(None) };
}

/// Clears the thread-local when the resource's validation ends, even by a panic.
struct Clear;

impl Drop for Clear {
    fn drop(&mut self) {
        REFUSING.with(|r| r.borrow_mut().take());
    }
}

/// Runs a resource's own `validate` for a client; when the client cannot hold write-only
/// values, every write-only attribute the configuration sets gets an error.
pub fn for_client(
    client: ClientCapabilities,
    block: &Block,
    config: &TfValue,
    diags: &mut Diagnostics,
    validate: impl FnOnce(&mut Diagnostics),
) {
    let mut paths = Vec::new();
    if !client.write_only_attributes_allowed {
        set_write_only(block, config, &AttrPath::root(), &mut paths);
    }
    if paths.is_empty() {
        validate(diags);
        return;
    }
    let reported_from = diags.0.len();
    REFUSING.with(|r| {
        *r.borrow_mut() = Some(Refusal {
            paths: paths.clone(),
            blocks: block.blocks.iter().map(|b| b.type_name.clone()).collect(),
        })
    });
    {
        let _clear = Clear;
        validate(diags);
    }
    for path in paths {
        let reported = diags.0[reported_from..]
            .iter()
            .any(|d| d.severity == Severity::Error && d.attribute.as_ref() == Some(&path));
        if !reported {
            diags.push(
                Diagnostic::error(
                    SUMMARY,
                    format!(
                        "`{path}` is write-only: only Terraform 1.11 or later keeps it out of \
                         the plan and state, and this Terraform did not say it can. Upgrade \
                         Terraform to 1.11 or later."
                    ),
                )
                .at(path),
            );
        }
    }
}

/// For [`exactly_one_of`](super::validators::exactly_one_of): when a member of the group is
/// a write-only attribute being refused, reports it, naming the other members, and returns
/// true (the group's own check would only add noise).
pub fn refuse_in_group(names: &[&str], diags: &mut Diagnostics) -> bool {
    REFUSING.with(|r| {
        let refusing = r.borrow();
        let Some(refusal) = refusing.as_ref() else {
            return false;
        };
        let mut refused = false;
        for name in names {
            let path = AttrPath::attr(*name);
            if !refusal.paths.contains(&path) {
                continue;
            }
            refused = true;
            let alternatives: Vec<String> = names
                .iter()
                .filter(|n| *n != name)
                .map(|n| {
                    if refusal.blocks.iter().any(|b| b == n) {
                        format!("a `{n} {{}}` block")
                    } else {
                        format!("`{n}`")
                    }
                })
                .collect();
            diags.push(
                Diagnostic::error(
                    SUMMARY,
                    format!(
                        "`{name}` is write-only: only Terraform 1.11 or later keeps it out of \
                         the plan and state, and this Terraform did not say it can. Set {} \
                         instead, or upgrade Terraform to 1.11 or later.",
                        alternatives.join(" or ")
                    ),
                )
                .at(path),
            );
        }
        refused
    })
}

/// The paths of the write-only attributes `value` sets, in `block` and its nested blocks.
fn set_write_only(block: &Block, value: &TfValue, path: &AttrPath, out: &mut Vec<AttrPath>) {
    if value.is_null() || !value.is_known() {
        return;
    }
    for a in block.attributes.iter().filter(|a| a.write_only) {
        if value.get_attr(&a.name).is_some_and(|v| !v.is_null()) {
            out.push(path.then_attr(a.name.clone()));
        }
    }
    for b in &block.blocks {
        let Some(v) = value.get_attr(&b.type_name) else {
            continue;
        };
        let bpath = path.then_attr(b.type_name.clone());
        match v {
            TfValue::List(items) | TfValue::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    set_write_only(&b.block, item, &bpath.then_index(i as i64), out);
                }
            }
            TfValue::Map(items) => {
                for (k, item) in items {
                    set_write_only(&b.block, item, &bpath.then_key(k.clone()), out);
                }
            }
            other => set_write_only(&b.block, other, &bpath, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock, Nesting};
    use crate::framework::validators::exactly_one_of;

    fn block() -> Block {
        Block::new("a thing")
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

    fn run(client: ClientCapabilities, config: &TfValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for_client(client, &block(), config, &mut diags, |diags| {
            exactly_one_of(config, &["secret", "secret_wo", "minted"], diags)
        });
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
        // The refusal does not outlive the validation it was made for.
        let mut after = Diagnostics::new();
        assert!(!refuse_in_group(&["secret_wo"], &mut after));
    }
}
