//! Schema builders. A schema says what Terraform shows and type-checks
//! (the wire part) and how the framework plans and validates each attribute
//! (defaults, "use state for unknown", forces replacement, validators).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::diag::AttrPath;
use super::types::Type;
use super::validators::{ConfigRule, Validator};
use super::value::TfValue;

#[derive(Clone, Debug)]
pub struct Schema {
    /// The state version; bump it and implement `upgrade_state` when the
    /// stored shape changes.
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }

    /// The object type Terraform uses for values of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub deprecated: bool,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Rules across this block's attributes, checked wherever the block is.
    pub rules: Vec<ConfigRule>,
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Block {
            description: description.into(),
            ..Block::default()
        }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn rule(mut self, rule: ConfigRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Calls `visit` with this block and `value`, then with every instance of a nested block
    /// in it (list and set items by index, map items by key), depth first; null and unknown
    /// values are skipped.
    pub fn walk<'a>(
        &'a self,
        value: &'a TfValue,
        path: &AttrPath,
        visit: &mut dyn FnMut(&'a Block, &'a TfValue, &AttrPath),
    ) {
        if value.is_null() || !value.is_known() {
            return;
        }
        visit(self, value, path);
        for b in &self.blocks {
            let Some(v) = value.get_attr(&b.type_name) else {
                continue;
            };
            let bpath = path.then_attr(b.type_name.clone());
            match v {
                TfValue::List(items) | TfValue::Set(items) => {
                    for (i, item) in items.iter().enumerate() {
                        b.block.walk(item, &bpath.then_index(i as i64), visit);
                    }
                }
                TfValue::Map(items) => {
                    for (k, item) in items {
                        b.block.walk(item, &bpath.then_key(k.clone()), visit);
                    }
                }
                other => b.block.walk(other, &bpath, visit),
            }
        }
    }

    pub fn get_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn get_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    pub fn value_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
                Nesting::Map => Type::Map(Box::new(inner)),
            };
            attrs.insert(b.type_name.clone(), ty);
        }
        Type::Object {
            attrs,
            optional: Default::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

impl NestedBlock {
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }
}

/// One attribute. Build with the typed constructors and chain the rest:
/// `Attribute::string("display_name").required().validate(not_blank())`.
#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
    /// Planned when the configuration leaves the attribute out (needs
    /// `optional` + `computed`, which `default` sets).
    pub default: Option<TfValue>,
    /// Keep the prior state's value in plans instead of "known after apply".
    pub use_state_for_unknown: bool,
    /// A change to this attribute destroys and re-creates the object.
    pub requires_replace: bool,
    /// Semantic equality of two spellings of a string value (an issuer and its metadata
    /// document URL, GUID letter case, a domain in Unicode or punycode). Equivalent values
    /// never force a replacement, and a read or apply that returns another spelling of the
    /// value keeps the one already held (as terraform-plugin-framework's semantic equality).
    pub equivalent: Option<fn(&str, &str) -> bool>,
    pub validators: Vec<Arc<dyn Validator>>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            default: None,
            use_state_for_unknown: false,
            requires_replace: false,
            equivalent: None,
            validators: Vec::new(),
        }
    }

    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn string_map(name: impl Into<String>) -> Self {
        Self::new(name, Type::Map(Box::new(Type::String)))
    }

    pub fn string_list(name: impl Into<String>) -> Self {
        Self::new(name, Type::List(Box::new(Type::String)))
    }

    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never stored in state or plan (Terraform 1.11+).
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn default(mut self, value: TfValue) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Two spellings `same(a, b)` says are one value are treated as one.
    pub fn equivalent(mut self, same: fn(&str, &str) -> bool) -> Self {
        self.equivalent = Some(same);
        self
    }

    /// Whether two values of this attribute differ only in spelling.
    pub fn spells_same(&self, a: &TfValue, b: &TfValue) -> bool {
        match (self.equivalent, a.as_str(), b.as_str()) {
            (Some(same), Some(a), Some(b)) => a == b || same(a, b),
            _ => false,
        }
    }

    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Computed only: the configuration cannot set it.
    pub fn is_computed_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_type_includes_nested_blocks() {
        let block = Block::new("r")
            .attribute(Attribute::string("id").computed())
            .block(NestedBlock::new(
                "timeouts",
                Nesting::Single,
                Block::new("").attribute(Attribute::string("create").optional()),
            ))
            .block(NestedBlock::new(
                "mapping",
                Nesting::List,
                Block::new("").attribute(Attribute::bool("on").optional()),
            ));
        let Type::Object { attrs, .. } = block.value_type() else {
            panic!("a block is an object")
        };
        assert_eq!(attrs["id"], Type::String);
        assert!(matches!(attrs["timeouts"], Type::Object { .. }));
        assert!(matches!(attrs["mapping"], Type::List(_)));
    }

    #[test]
    fn default_makes_attribute_optional_and_computed() {
        let a = Attribute::bool("enabled").default(TfValue::Bool(true));
        assert!(a.optional && a.computed && !a.is_computed_only());
    }
}
