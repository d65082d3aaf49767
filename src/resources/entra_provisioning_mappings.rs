//! The attribute mappings `kiro_entra_provisioning` manages, against the job's schema: what
//! the configuration wants written, and what the schema holds now (for drift). Only the
//! mappings named here are touched; everything else in the schema is written back as read.

use crate::framework::diag::{AttrPath, Diagnostics};
use crate::framework::model::Blocks;
use crate::graph::error::GraphError;
use crate::graph::expression::{parse_expression, same_source};
use crate::graph::synchronization::{MappingSource, SyncObject, SyncSchema};
use crate::kiro::scim_rules::rejects_user_attribute;

use super::entra_provisioning::MappingBlock;

/// The mapping the Kiro set-up needs when the configuration names none: users' `externalId`
/// from their object id, which is what Kiro's subscriptions match Entra principals by.
pub const DEFAULT_TARGET: &str = "externalId";
pub const DEFAULT_SOURCE: &str = "objectId";

/// One mapping to make true.
#[derive(Clone, Debug)]
pub struct Wanted {
    pub object: SyncObject,
    pub target: String,
    pub source: MappingSource,
}

pub fn object_of(name: &str) -> SyncObject {
    if name.eq_ignore_ascii_case("group") {
        SyncObject::Group
    } else {
        SyncObject::User
    }
}

fn block_source(block: &MappingBlock) -> Result<MappingSource, String> {
    match (&block.source_attribute, &block.expression) {
        (Some(name), _) => Ok(MappingSource::attribute(name.trim())),
        (None, Some(expression)) => parse_expression(expression),
        (None, None) => Err("set source_attribute or expression".into()),
    }
}

/// Whether the blocks map users' `externalId` themselves (else the default mapping holds).
fn maps_external_id(blocks: &[MappingBlock]) -> bool {
    blocks.iter().any(|b| {
        object_of(&b.object) == SyncObject::User
            && b.target_attribute.eq_ignore_ascii_case(DEFAULT_TARGET)
    })
}

/// The mappings the configuration asks for, with the default `externalId ← objectId` unless a
/// block maps `externalId` itself: an unrelated block must not drop what subscriptions by
/// `external_id` rely on.
pub fn wanted(blocks: &[MappingBlock]) -> Result<Vec<Wanted>, String> {
    let mut wanted = Vec::new();
    if !maps_external_id(blocks) {
        wanted.push(Wanted {
            object: SyncObject::User,
            target: DEFAULT_TARGET.into(),
            source: MappingSource::attribute(DEFAULT_SOURCE),
        });
    }
    for b in blocks {
        wanted.push(Wanted {
            object: object_of(&b.object),
            target: b.target_attribute.clone(),
            source: block_source(b)?,
        });
    }
    Ok(wanted)
}

/// Edits `schema` so that every wanted mapping holds and, with `remove_unsupported`, the
/// user mappings Kiro rejects are gone. True when anything changed (so a PUT is needed).
pub fn apply(
    schema: &mut SyncSchema,
    wanted: &[Wanted],
    remove_unsupported: bool,
) -> Result<bool, GraphError> {
    let mut changed = false;
    for w in wanted {
        let holds = schema
            .mapping(w.object, &w.target)
            .is_some_and(|m| same_source(&m.source, &w.source));
        if !holds {
            schema.set_mapping(w.object, &w.target, w.source.clone())?;
            changed = true;
        }
    }
    if remove_unsupported {
        for target in unsupported(schema) {
            schema.remove_mapping(SyncObject::User, &target);
            changed = true;
        }
    }
    Ok(changed)
}

/// The user mappings in `schema` whose targets Kiro rejects.
pub fn unsupported(schema: &SyncSchema) -> Vec<String> {
    schema
        .mappings(SyncObject::User)
        .iter()
        .map(|m| m.target_attribute_name.clone())
        .filter(|t| rejects_user_attribute(t))
        .collect()
}

/// `remove_unsupported_mappings` as a read sees it: `true` stays `true` only while the schema
/// holds none of the mappings Kiro rejects (one added back in the portal shows as drift);
/// `false` stays `false` (the resource never adds them back, so there is nothing to show).
pub fn observed_remove_unsupported(in_state: bool, schema: &SyncSchema) -> bool {
    in_state && unsupported(schema).is_empty()
}

/// A block describing `source` as the schema holds it.
fn block_for(object: &str, target: &str, source: Option<&MappingSource>) -> MappingBlock {
    let (source_attribute, expression) = match source {
        Some(s) if s.kind.eq_ignore_ascii_case("Attribute") => (s.name.clone(), None),
        Some(s) => (None, s.expression.clone().or_else(|| s.name.clone())),
        None => (None, None),
    };
    MappingBlock {
        object: object.to_string(),
        target_attribute: target.to_string(),
        source_attribute,
        expression,
    }
}

/// The managed mappings as the schema holds them now, for state. A block whose mapping
/// still computes the same keeps its text; one changed in the portal reads as the portal
/// left it; one removed there is left out (the plan adds it back). While no block maps
/// `externalId`, the default mapping changed or removed in the portal reads as an extra block
/// describing it, so the plan shows it going away and the apply restores `objectId`.
pub fn observe(schema: &SyncSchema, managed: &Blocks<MappingBlock>) -> Blocks<MappingBlock> {
    let mut observed: Vec<MappingBlock> = managed
        .iter()
        .filter_map(|block| {
            let current = schema.mapping(object_of(&block.object), &block.target_attribute)?;
            let unchanged =
                block_source(block).is_ok_and(|wanted| same_source(&current.source, &wanted));
            Some(if unchanged {
                block.clone()
            } else {
                block_for(
                    &block.object,
                    &block.target_attribute,
                    Some(&current.source),
                )
            })
        })
        .collect();
    if !maps_external_id(managed) {
        let current = schema.mapping(SyncObject::User, DEFAULT_TARGET);
        let default = MappingSource::attribute(DEFAULT_SOURCE);
        if !current.is_some_and(|m| same_source(&m.source, &default)) {
            observed.push(block_for(
                "user",
                DEFAULT_TARGET,
                current.map(|m| &m.source),
            ));
        }
    }
    Blocks(observed)
}

/// Plan-time checks of the blocks: expressions that parse, no
/// target mapped twice, and no mapping Kiro rejects while those are being removed.
pub fn validate(blocks: &[MappingBlock], remove_unsupported: bool, diags: &mut Diagnostics) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let at = AttrPath::attr("attribute_mapping").then_index(i as i64);
        // Exactly one source per block is a rule of the block itself (MappingBlock).
        if let (None, Some(e)) = (&b.source_attribute, &b.expression)
            && let Err(problem) = parse_expression(e)
        {
            diags.attr_error(
                at.then_attr("expression"),
                "Invalid mapping expression",
                format!("The expression does not parse: {problem}."),
            );
        }
        let key = (
            b.object.to_ascii_lowercase(),
            b.target_attribute.to_ascii_lowercase(),
        );
        if seen.contains(&key) {
            diags.attr_error(
                at.then_attr("target_attribute"),
                "Duplicate attribute mapping",
                format!(
                    "{} {} is mapped by an earlier attribute_mapping block; a target takes one \
                     source.",
                    b.object, b.target_attribute
                ),
            );
        }
        let is_user = key.0 == "user";
        seen.push(key);
        if remove_unsupported && is_user && rejects_user_attribute(&b.target_attribute) {
            diags.attr_error(
                at.then_attr("target_attribute"),
                "Kiro rejects this attribute",
                format!(
                    "Kiro's SCIM endpoint refuses {} (400 invalidValue), so provisioning a user \
                     with it fails, and remove_unsupported_mappings = true removes it. Remove \
                     this block, or set remove_unsupported_mappings = false to keep it anyway.",
                    b.target_attribute
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::synchronization::{AttributeMapping, ObjectMapping, SyncRule};

    fn schema(targets: &[&str]) -> SyncSchema {
        let attribute_mappings = targets
            .iter()
            .map(|t| AttributeMapping {
                source: MappingSource::attribute("x"),
                target_attribute_name: t.to_string(),
                default_value: None,
                flow_behavior: None,
                flow_type: None,
                matching_priority: 0,
                extra: Default::default(),
            })
            .collect();
        SyncSchema {
            synchronization_rules: vec![SyncRule {
                id: "rule".into(),
                object_mappings: vec![ObjectMapping {
                    source_object_name: "User".into(),
                    attribute_mappings,
                    ..ObjectMapping::default()
                }],
                ..SyncRule::default()
            }],
            ..SyncSchema::default()
        }
    }

    const DEPARTMENT: &str =
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

    #[test]
    fn an_unrelated_block_keeps_the_default_external_id_mapping() {
        let block = |target: &str, source: &str| MappingBlock {
            object: "user".into(),
            target_attribute: target.into(),
            source_attribute: Some(source.into()),
            expression: None,
        };
        let targets = |blocks: &[MappingBlock]| -> Vec<(String, String)> {
            wanted(blocks)
                .unwrap()
                .into_iter()
                .map(|w| (w.target, w.source.name.unwrap_or_default()))
                .collect()
        };
        assert_eq!(
            targets(&[block("displayName", "displayName")]),
            vec![
                ("externalId".to_string(), "objectId".to_string()),
                ("displayName".to_string(), "displayName".to_string())
            ]
        );
        assert_eq!(
            targets(&[block("ExternalId", "mail")]),
            vec![("ExternalId".to_string(), "mail".to_string())],
            "a block that maps externalId replaces the default"
        );
        // With an unrelated block, the default changed in the portal still shows as drift.
        let mut s = schema(&["externalId", "displayName"]);
        s.set_mapping(
            SyncObject::User,
            "displayName",
            MappingSource::attribute("displayName"),
        )
        .unwrap();
        let managed = Blocks(vec![block("displayName", "displayName")]);
        let seen = observe(&s, &managed);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[1].target_attribute, "externalId");
        assert_eq!(seen[1].source_attribute.as_deref(), Some("x"));
        s.set_mapping(
            SyncObject::User,
            "externalId",
            MappingSource::attribute("objectId"),
        )
        .unwrap();
        assert_eq!(observe(&s, &managed), managed);
    }

    #[test]
    fn removing_unsupported_reads_back_without_perpetual_diffs() {
        let clean = schema(&["externalId"]);
        let dirty = schema(&["externalId", DEPARTMENT]);
        assert!(observed_remove_unsupported(true, &clean));
        assert!(!observed_remove_unsupported(true, &dirty), "drift shows");
        assert!(!observed_remove_unsupported(false, &clean), "false is kept");
        assert!(!observed_remove_unsupported(false, &dirty));
    }

    #[test]
    fn apply_sets_wanted_mappings_and_drops_rejected_ones_only_when_asked() {
        let wanted = wanted(&[]).unwrap();
        let mut s = schema(&["externalId", DEPARTMENT, "userName"]);
        assert!(apply(&mut s, &wanted, false).unwrap());
        assert!(s.mapping(SyncObject::User, DEPARTMENT).is_some());
        assert!(apply(&mut s, &wanted, true).unwrap());
        assert!(s.mapping(SyncObject::User, DEPARTMENT).is_none());
        assert!(
            s.mapping(SyncObject::User, "userName").is_some(),
            "others kept"
        );
        assert!(
            !apply(&mut s, &wanted, true).unwrap(),
            "nothing left to change"
        );
    }

    #[test]
    fn observe_keeps_text_of_equivalent_expressions_and_reports_portal_changes() {
        let block = MappingBlock {
            object: "user".into(),
            target_attribute: "displayName".into(),
            source_attribute: None,
            expression: Some("Join(\" \",[givenName],[surname])".into()),
        };
        let mut s = schema(&["externalId"]);
        apply(&mut s, &wanted(std::slice::from_ref(&block)).unwrap(), true).unwrap();
        let managed = Blocks(vec![block.clone()]);
        assert_eq!(observe(&s, &managed).0, vec![block.clone()]);
        s.set_mapping(
            SyncObject::User,
            "displayName",
            MappingSource::attribute("mail"),
        )
        .unwrap();
        let seen = observe(&s, &managed);
        assert_eq!(seen[0].source_attribute.as_deref(), Some("mail"));
        assert_eq!(seen[0].expression, None);
        s.remove_mapping(SyncObject::User, "displayName");
        assert!(
            observe(&s, &managed).is_empty(),
            "removed in the portal: planned again"
        );
    }
}
