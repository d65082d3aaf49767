//! Conversions between the framework's types and the generated protobuf
//! messages. Only the server layer sees protobuf.

use crate::framework::diag::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::framework::rpc::{ClientCapabilities, EncodedValue};
use crate::framework::schema::{self, Nesting};

use super::proto::tfplugin5 as pb;

pub fn diagnostics(diags: Diagnostics) -> Vec<pb::Diagnostic> {
    diags.0.into_iter().map(diagnostic).collect()
}

pub fn diagnostic(d: Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary,
        detail: d.detail,
        attribute: d.attribute.map(attr_path),
    }
}

/// An absent message (a client older than the field) means no capability.
pub fn client_capabilities(caps: Option<pb::ClientCapabilities>) -> ClientCapabilities {
    ClientCapabilities {
        write_only_attributes_allowed: caps.is_some_and(|c| c.write_only_attributes_allowed),
    }
}

pub fn attr_path(path: AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .into_iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(n) => Selector::AttributeName(n),
                    PathStep::Key(k) => Selector::ElementKeyString(k),
                    PathStep::Index(i) => Selector::ElementKeyInt(i),
                }),
            })
            .collect(),
    }
}

pub fn dynamic_in(v: Option<pb::DynamicValue>) -> Option<EncodedValue> {
    v.map(|v| EncodedValue {
        msgpack: v.msgpack,
        json: v.json,
    })
}

pub fn dynamic_in_or_null(v: Option<pb::DynamicValue>) -> EncodedValue {
    dynamic_in(v).unwrap_or_default()
}

pub fn dynamic_out(v: EncodedValue) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: v.msgpack,
        json: v.json,
    }
}

pub fn schema(s: &schema::Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &schema::Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

fn attribute(a: &schema::Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json_bytes(),
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

fn nested_block(n: &schema::NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match n.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: n.type_name.clone(),
        block: Some(block(&n.block, 0)),
        nesting: nesting as i32,
        min_items: n.min_items,
        max_items: n.max_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Block, NestedBlock, Schema};

    #[test]
    fn diagnostic_carries_attribute_path() {
        let d =
            Diagnostic::error("bad", "worse").at(AttrPath::attr("a").then_index(1).then_key("k"));
        let pb = diagnostic(d);
        assert_eq!(pb.severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(pb.attribute.unwrap().steps.len(), 3);
    }

    #[test]
    fn schema_converts_attributes_and_blocks() {
        let s = Schema::new(
            1,
            Block::new("d")
                .attribute(
                    Attribute::string("secret")
                        .optional()
                        .sensitive()
                        .write_only(),
                )
                .block(NestedBlock::new(
                    "timeouts",
                    Nesting::Single,
                    Block::new(""),
                )),
        );
        let pb = schema(&s);
        let b = pb.block.unwrap();
        assert_eq!(b.attributes[0].r#type, b"\"string\"".to_vec());
        assert!(b.attributes[0].sensitive && b.attributes[0].write_only);
        assert_eq!(
            b.block_types[0].nesting,
            pb::schema::nested_block::NestingMode::Single as i32
        );
    }
}
