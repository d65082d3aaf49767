//! Planning: from Terraform's proposed new state to the planned state —
//! defaults, "known after apply" only where a value can really change,
//! prior values kept for `use_state_for_unknown`, write-only values nulled,
//! and the attributes whose change forces replacement.

use std::collections::BTreeMap;

use super::diag::{AttrPath, Diagnostics};
use super::schema::Schema;
use super::value::TfValue;

/// The plan being made for one resource instance; resources adjust it in
/// `Resource::modify_plan`.
pub struct PlanContext<'a> {
    pub schema: &'a Schema,
    /// Null when the resource is being created.
    pub prior: &'a TfValue,
    pub config: &'a TfValue,
    planned: BTreeMap<String, TfValue>,
    extra_replace: Vec<AttrPath>,
    pub diagnostics: Diagnostics,
}

static NULL: TfValue = TfValue::Null;

impl<'a> PlanContext<'a> {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    pub fn planned(&self, name: &str) -> &TfValue {
        self.planned.get(name).unwrap_or(&NULL)
    }

    pub fn config(&self, name: &str) -> &TfValue {
        self.config.get_attr(name).unwrap_or(&NULL)
    }

    pub fn prior(&self, name: &str) -> &TfValue {
        self.prior.get_attr(name).unwrap_or(&NULL)
    }

    pub fn set(&mut self, name: &str, value: TfValue) {
        self.planned.insert(name.to_string(), value);
    }

    /// Forces replacement even where the schema does not say so.
    pub fn require_replace(&mut self, name: &str) {
        self.extra_replace.push(AttrPath::attr(name));
    }

    /// True when something the configuration controls differs from the
    /// prior state (always true on create), other than in form (see
    /// [`changes_remote_object`]).
    pub fn has_changes(&self) -> bool {
        self.is_create()
            || changes_remote_object(
                self.schema,
                self.prior,
                &TfValue::Object(self.planned.clone()),
            )
    }

    /// The planned state and the paths that force replacement.
    pub fn finish(self) -> (TfValue, Vec<AttrPath>, Diagnostics) {
        let mut replace = Vec::new();
        if !self.is_create() {
            for a in &self.schema.block.attributes {
                let (planned, prior) = (self.planned(&a.name), self.prior(&a.name));
                if a.requires_replace && planned != prior && !a.spells_same(prior, planned) {
                    replace.push(AttrPath::attr(a.name.clone()));
                }
            }
        }
        for path in self.extra_replace {
            if !replace.contains(&path) {
                replace.push(path);
            }
        }
        (TfValue::Object(self.planned), replace, self.diagnostics)
    }
}

/// Whether going from `prior` to `planned` changes the remote object: an argument differs
/// other than in spelling (an attribute's semantic equality), or a nested block differs.
/// Write-only values (never in a plan) and the `timeouts` block (how long the provider
/// waits, e.g. written in the configuration after an import) change nothing remote.
pub fn changes_remote_object(schema: &Schema, prior: &TfValue, planned: &TfValue) -> bool {
    let get = |v: &'_ TfValue, name: &str| v.get_attr(name).cloned().unwrap_or(TfValue::Null);
    let block = &schema.block;
    let attr_changed = block
        .attributes
        .iter()
        .filter(|a| !a.is_computed_only() && !a.write_only)
        .any(|a| {
            let (before, after) = (get(prior, &a.name), get(planned, &a.name));
            before != after && !a.spells_same(&before, &after)
        });
    let block_changed = block
        .blocks
        .iter()
        .filter(|b| b.type_name != super::timeouts::BLOCK)
        .any(|b| get(prior, &b.type_name) != get(planned, &b.type_name));
    attr_changed || block_changed
}

/// The framework's plan for a create or update (destroy plans are passed
/// through before this is called).
pub fn plan<'a>(
    schema: &'a Schema,
    prior: &'a TfValue,
    proposed: &TfValue,
    config: &'a TfValue,
) -> PlanContext<'a> {
    let mut planned = match proposed {
        TfValue::Object(attrs) => attrs.clone(),
        _ => BTreeMap::new(),
    };
    let is_create = prior.is_null();
    for a in &schema.block.attributes {
        let configured = config.get_attr(&a.name).is_some_and(|v| !v.is_null());
        if a.write_only {
            planned.insert(a.name.clone(), TfValue::Null);
        } else if !configured {
            if let Some(default) = &a.default {
                planned.insert(a.name.clone(), default.clone());
            } else if a.computed && is_create {
                planned.insert(a.name.clone(), TfValue::unknown());
            }
        }
    }
    let mut ctx = PlanContext {
        schema,
        prior,
        config,
        planned,
        extra_replace: Vec::new(),
        diagnostics: Diagnostics::new(),
    };
    if !is_create && ctx.has_changes() {
        for a in &schema.block.attributes {
            let configured = !ctx.config(&a.name).is_null();
            if a.computed && !configured && a.default.is_none() && !a.use_state_for_unknown {
                ctx.set(&a.name, TfValue::unknown());
            }
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Block};
    use crate::framework::typed::ObjectBuilder;

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("t")
                .attribute(Attribute::string("id").computed().use_state_for_unknown())
                .attribute(Attribute::string("name").required())
                .attribute(
                    Attribute::string("home")
                        .required()
                        .requires_replace()
                        .equivalent(|a, b| a.eq_ignore_ascii_case(b)),
                )
                .attribute(Attribute::number("version").default(TfValue::Number(2i64.into())))
                .attribute(Attribute::string("etag").computed())
                .attribute(Attribute::string("secret_wo").optional().write_only()),
        )
    }

    fn state(name: &str, home: &str) -> TfValue {
        ObjectBuilder::new()
            .set("id", "1")
            .set("name", name)
            .set("home", home)
            .set("version", 2i64)
            .set("etag", "e1")
            .set_raw("secret_wo", TfValue::Null)
            .build()
    }

    fn config(name: &str, home: &str) -> TfValue {
        ObjectBuilder::new()
            .set_raw("id", TfValue::Null)
            .set("name", name)
            .set("home", home)
            .set_raw("version", TfValue::Null)
            .set_raw("etag", TfValue::Null)
            .set("secret_wo", "s3cret")
            .build()
    }

    /// What Terraform proposes: config values, prior values for computed.
    fn proposed(prior: &TfValue, config: &TfValue) -> TfValue {
        let mut out = BTreeMap::new();
        for a in &schema().block.attributes {
            let c = config.get_attr(&a.name).cloned().unwrap_or(TfValue::Null);
            let v = if c.is_null() && a.computed {
                prior.get_attr(&a.name).cloned().unwrap_or(TfValue::Null)
            } else {
                c
            };
            out.insert(a.name.clone(), v);
        }
        TfValue::Object(out)
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let s = schema();
        let cfg = config("a", "h");
        let prop = proposed(&TfValue::Null, &cfg);
        let (planned, replace, _) = plan(&s, &TfValue::Null, &prop, &cfg).finish();
        assert!(planned.get_attr("id").unwrap().is_unknown());
        assert!(planned.get_attr("etag").unwrap().is_unknown());
        assert_eq!(
            planned.get_attr("version"),
            Some(&TfValue::Number(2i64.into()))
        );
        assert_eq!(planned.get_attr("secret_wo"), Some(&TfValue::Null));
        assert!(replace.is_empty());
    }

    #[test]
    fn no_change_plan_equals_prior_state() {
        let s = schema();
        let prior = state("a", "h");
        let cfg = config("a", "h");
        let ctx = plan(&s, &prior, &proposed(&prior, &cfg), &cfg);
        assert!(!ctx.has_changes());
        let (planned, replace, _) = ctx.finish();
        assert_eq!(planned, prior);
        assert!(replace.is_empty());
    }

    #[test]
    fn update_keeps_ids_and_unknowns_the_rest() {
        let s = schema();
        let prior = state("a", "h");
        let cfg = config("b", "h");
        let (planned, replace, _) = plan(&s, &prior, &proposed(&prior, &cfg), &cfg).finish();
        assert_eq!(planned.get_attr("id"), Some(&TfValue::String("1".into())));
        assert!(planned.get_attr("etag").unwrap().is_unknown());
        assert!(replace.is_empty());
    }

    #[test]
    fn forces_replacement_on_marked_attribute() {
        let s = schema();
        let prior = state("a", "h");
        let cfg = config("a", "elsewhere");
        let (_, replace, _) = plan(&s, &prior, &proposed(&prior, &cfg), &cfg).finish();
        assert_eq!(replace, vec![AttrPath::attr("home")]);

        let cfg = config("a", "H");
        let (planned, replace, _) = plan(&s, &prior, &proposed(&prior, &cfg), &cfg).finish();
        assert!(
            replace.is_empty(),
            "another spelling of the same value updates in place"
        );
        assert_eq!(planned.get_attr("home"), Some(&TfValue::String("H".into())));
    }
}
