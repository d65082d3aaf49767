//! Registry documentation rendered from the provider's own schemas, in the
//! layout the Terraform Registry reads (`docs/index.md`,
//! `docs/resources/<name>.md`, `docs/data-sources/<name>.md`) and in the
//! shape `tfplugindocs` gives it, so users of other providers find their way.
//!
//! What a schema cannot say comes from files next to the examples:
//! `examples/provider/provider.tf` and `notes.md`,
//! `examples/resources/<type>/resource.tf`, `import.sh` and `notes.md`,
//! `examples/data-sources/<type>/data-source.tf` and `notes.md`.
//! Rendering is a pure function of the schemas and those files: the same
//! input gives the same bytes, so `docs/` can be checked for staleness.
//! `docs/guides/` holds hand-written guides, which this module leaves alone.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::framework::runtime::ProviderDef;
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::types::Type;
use crate::framework::value::TfValue;

pub mod module;

/// The command that regenerates `docs/`; error messages name it.
pub const DOCS_COMMAND: &str = "cargo run --bin kiro-docs";

/// Everything the provider documents: its own schema and those of its
/// resources and data sources, sorted by type name.
pub struct Catalog {
    /// The provider's type name (`kiro`), used in titles.
    pub provider_name: String,
    pub provider: Schema,
    pub resources: Vec<(String, Schema)>,
    pub data_sources: Vec<(String, Schema)>,
}

impl Catalog {
    pub fn of<P: ProviderDef>(provider_name: &str, def: &P) -> Catalog {
        let mut resources: Vec<(String, Schema)> = def
            .resources()
            .iter()
            .map(|r| (r.type_name().to_string(), r.schema()))
            .collect();
        let mut data_sources: Vec<(String, Schema)> = def
            .data_sources()
            .iter()
            .map(|d| (d.type_name().to_string(), d.schema()))
            .collect();
        resources.sort_by(|a, b| a.0.cmp(&b.0));
        data_sources.sort_by(|a, b| a.0.cmp(&b.0));
        Catalog {
            provider_name: provider_name.to_string(),
            provider: def.schema(),
            resources,
            data_sources,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Resource,
    DataSource,
}

impl Kind {
    /// The directory under both `docs/` and `examples/`.
    pub fn dir(self) -> &'static str {
        match self {
            Kind::Resource => "resources",
            Kind::DataSource => "data-sources",
        }
    }

    /// The example file every type of this kind must have.
    pub fn example_file(self) -> &'static str {
        match self {
            Kind::Resource => "resource.tf",
            Kind::DataSource => "data-source.tf",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Resource => "resource",
            Kind::DataSource => "data source",
        }
    }
}

/// One rendered file; `path` is relative to the docs directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: PathBuf,
    pub content: String,
}

/// What stops the docs from being rendered: each missing or unreadable
/// example file, and example directories no type claims.
#[derive(Debug, PartialEq, Eq)]
pub struct ExampleProblems(pub Vec<String>);

impl fmt::Display for ExampleProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the docs cannot be rendered:")?;
        for problem in &self.0 {
            writeln!(f, "- {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExampleProblems {}

/// Renders every page from `catalog` and the example files under
/// `examples` (the repository's `examples/` directory).
pub fn render(catalog: &Catalog, examples: &Path) -> Result<Vec<Page>, ExampleProblems> {
    let mut problems = Vec::new();
    let mut pages = Vec::new();

    let provider_dir = examples.join("provider");
    let provider_example = read_required(
        &provider_dir.join("provider.tf"),
        "the provider",
        &mut problems,
    );
    let provider_notes = read_optional(&provider_dir.join("notes.md"), &mut problems);
    if let Some(example) = provider_example {
        pages.push(Page {
            path: PathBuf::from("index.md"),
            content: render_index(catalog, &example, provider_notes.as_deref()),
        });
    }

    for (kind, types) in [
        (Kind::Resource, &catalog.resources),
        (Kind::DataSource, &catalog.data_sources),
    ] {
        for (type_name, schema) in types {
            if let Some(page) =
                render_type(catalog, kind, type_name, schema, examples, &mut problems)
            {
                pages.push(page);
            }
        }
        unclaimed_examples(kind, types, examples, &mut problems);
    }

    if problems.is_empty() {
        Ok(pages)
    } else {
        Err(ExampleProblems(problems))
    }
}

fn render_type(
    catalog: &Catalog,
    kind: Kind,
    type_name: &str,
    schema: &Schema,
    examples: &Path,
    problems: &mut Vec<String>,
) -> Option<Page> {
    let dir = examples.join(kind.dir()).join(type_name);
    let what = format!("{} {type_name}", kind.noun());
    let example = read_required(&dir.join(kind.example_file()), &what, problems);
    let notes = read_optional(&dir.join("notes.md"), problems);
    let import = match kind {
        Kind::Resource => {
            let script = read_optional(&dir.join("import.sh"), problems);
            let says_not_importable = says_not_importable(&schema.block.description)
                || notes.as_deref().is_some_and(says_not_importable);
            match script {
                Some(script) => Some(Import::Script(script)),
                None if says_not_importable => Some(Import::NotImportable),
                None => {
                    problems.push(format!(
                        "resource {type_name} has no import example: add {}, or say in its \
                         description that it cannot be imported",
                        dir.join("import.sh").display()
                    ));
                    None
                }
            }
        }
        Kind::DataSource => None,
    };
    let example = example?;
    if kind == Kind::Resource && import.is_none() {
        return None;
    }

    let short_name = type_name
        .strip_prefix(&format!("{}_", catalog.provider_name))
        .unwrap_or(type_name);
    let mut out = String::new();
    front_matter(
        &mut out,
        &format!("{type_name} {} - {}", kind.title(), catalog.provider_name),
        Some(subcategory(type_name)),
        &schema.block.description,
    );
    out.push_str(&format!("# {type_name} ({})\n\n", kind.title()));
    paragraph(&mut out, &schema.block.description);
    if let Some(notes) = &notes {
        paragraph(&mut out, notes);
    }
    out.push_str("## Example Usage\n\n");
    code(&mut out, "terraform", &example);
    schema_section(&mut out, &schema.block);
    match import {
        Some(Import::Script(script)) => {
            out.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
            code(&mut out, "shell", &script);
            out.push_str(
                "An `import` block with the same ID works as well, including with \
                 `terraform plan -generate-config-out=generated.tf`.\n\n",
            );
        }
        Some(Import::NotImportable) => {
            out.push_str(&format!(
                "## Import\n\n`{type_name}` cannot be imported.\n\n"
            ));
        }
        None => {}
    }
    Some(Page {
        path: PathBuf::from(kind.dir()).join(format!("{short_name}.md")),
        content: finish(out),
    })
}

enum Import {
    Script(String),
    NotImportable,
}

fn says_not_importable(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("cannot be imported") || text.contains("not importable")
}

/// The Registry groups the sidebar by subcategory: the Entra side and the
/// Kiro side of the setup.
fn subcategory(type_name: &str) -> &'static str {
    if type_name.starts_with("kiro_entra_") {
        "Entra ID"
    } else {
        "Kiro"
    }
}

fn render_index(catalog: &Catalog, example: &str, notes: Option<&str>) -> String {
    let name = &catalog.provider_name;
    let mut out = String::new();
    front_matter(
        &mut out,
        &format!("{name} Provider"),
        None,
        &catalog.provider.block.description,
    );
    out.push_str(&format!("# {name} Provider\n\n"));
    paragraph(&mut out, &catalog.provider.block.description);
    if let Some(notes) = notes {
        paragraph(&mut out, notes);
    }
    out.push_str("## Example Usage\n\n");
    code(&mut out, "terraform", example);
    schema_section(&mut out, &catalog.provider.block);
    finish(out)
}

/// Example directories whose name matches no type: a renamed or removed
/// type whose example was left behind.
fn unclaimed_examples(
    kind: Kind,
    types: &[(String, Schema)],
    examples: &Path,
    problems: &mut Vec<String>,
) {
    let dir = examples.join(kind.dir());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let known: BTreeSet<&str> = types.iter().map(|(name, _)| name.as_str()).collect();
    let mut unclaimed: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !known.contains(name.as_str()))
        .collect();
    unclaimed.sort();
    for name in unclaimed {
        problems.push(format!(
            "{} is an example for no {} of this provider: rename or remove it",
            dir.join(name).display(),
            kind.noun()
        ));
    }
}

fn read_required(path: &Path, what: &str, problems: &mut Vec<String>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            problems.push(format!("{what} has no example: add {}", path.display()));
            None
        }
        Err(e) => {
            problems.push(format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

fn read_optional(path: &Path, problems: &mut Vec<String>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            problems.push(format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

fn front_matter(out: &mut String, title: &str, subcategory: Option<&str>, description: &str) {
    out.push_str("---\n");
    out.push_str(&format!(
        "# generated by `{DOCS_COMMAND}` from the provider's schema; do not edit\n"
    ));
    out.push_str(&format!("page_title: \"{title}\"\n"));
    out.push_str(&format!("subcategory: \"{}\"\n", subcategory.unwrap_or("")));
    out.push_str("description: |-\n");
    for line in description.trim().lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str("---\n\n");
}

fn paragraph(out: &mut String, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        out.push_str(text);
        out.push_str("\n\n");
    }
}

fn code(out: &mut String, language: &str, text: &str) {
    out.push_str(&format!("```{language}\n{}\n```\n\n", text.trim_end()));
}

/// One trailing newline, whatever the last section left.
fn finish(out: String) -> String {
    format!("{}\n", out.trim_end())
}

/// Where an attribute or block is listed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Required,
    Optional,
    ReadOnly,
}

impl Section {
    const ALL: [Section; 3] = [Section::Required, Section::Optional, Section::ReadOnly];

    fn heading(self) -> &'static str {
        match self {
            Section::Required => "Required",
            Section::Optional => "Optional",
            Section::ReadOnly => "Read-Only",
        }
    }

    fn of_attribute(a: &Attribute) -> Section {
        if a.required {
            Section::Required
        } else if a.optional {
            Section::Optional
        } else {
            Section::ReadOnly
        }
    }

    fn of_block(b: &NestedBlock) -> Section {
        if b.min_items > 0 {
            Section::Required
        } else if is_read_only(&b.block) {
            Section::ReadOnly
        } else {
            Section::Optional
        }
    }
}

/// A block the configuration cannot set anything in.
fn is_read_only(block: &Block) -> bool {
    (!block.attributes.is_empty() || !block.blocks.is_empty())
        && block.attributes.iter().all(Attribute::is_computed_only)
        && block.blocks.iter().all(|b| is_read_only(&b.block))
}

/// `## Schema` for a top-level block, then one anchored subsection per
/// nested block (depth first), as tfplugindocs lays it out.
fn schema_section(out: &mut String, block: &Block) {
    out.push_str("## Schema\n\n");
    block_entries(out, block, &[], "###");
    nested_sections(out, block, &[]);
}

fn block_entries(out: &mut String, block: &Block, path: &[&str], heading: &str) {
    if !block.rules.is_empty() {
        for rule in &block.rules {
            out.push_str(&format!("- {}\n", rule.describe()));
        }
        out.push('\n');
    }
    for section in Section::ALL {
        let mut entries: Vec<(&str, String)> = Vec::new();
        for a in &block.attributes {
            if Section::of_attribute(a) == section {
                entries.push((&a.name, attribute_entry(a)));
            }
        }
        for b in &block.blocks {
            if Section::of_block(b) == section {
                entries.push((&b.type_name, block_entry(b, path, section)));
            }
        }
        if entries.is_empty() {
            continue;
        }
        entries.sort_by(|a, b| a.0.cmp(b.0));
        if heading.is_empty() {
            out.push_str(&format!("{}:\n\n", section.heading()));
        } else {
            out.push_str(&format!("{heading} {}\n\n", section.heading()));
        }
        for (_, entry) in entries {
            out.push_str(&entry);
            out.push('\n');
        }
        out.push('\n');
    }
}

fn nested_sections(out: &mut String, block: &Block, path: &[&str]) {
    let mut nested: Vec<&NestedBlock> = block.blocks.iter().collect();
    nested.sort_by(|a, b| a.type_name.cmp(&b.type_name));
    for b in nested {
        let mut inner = path.to_vec();
        inner.push(&b.type_name);
        out.push_str(&format!("<a id=\"{}\"></a>\n", anchor(&inner)));
        out.push_str(&format!("### Nested Schema for `{}`\n\n", inner.join(".")));
        paragraph(out, &b.block.description);
        block_entries(out, &b.block, &inner, "");
        nested_sections(out, &b.block, &inner);
    }
}

fn anchor(path: &[&str]) -> String {
    format!("nestedblock--{}", path.join("--"))
}

fn attribute_entry(a: &Attribute) -> String {
    let mut traits = vec![type_label(&a.ty)];
    if a.sensitive {
        traits.push("Sensitive".to_string());
    }
    if a.write_only {
        traits.push("Write-only".to_string());
    }
    if a.deprecated {
        traits.push("Deprecated".to_string());
    }
    let mut entry = format!("- `{}` ({})", a.name, traits.join(", "));
    let mut sentences = Vec::new();
    let description = a.description.trim();
    if !description.is_empty() {
        sentences.push(description.to_string());
    }
    if let Some(default) = &a.default {
        sentences.push(format!("Defaults to `{}`.", hcl_literal(default)));
    }
    if a.requires_replace {
        sentences.push("Changing it forces replacement.".to_string());
    }
    if a.write_only {
        sentences.push("Never stored in the plan or the state.".to_string());
    }
    if !sentences.is_empty() {
        entry.push(' ');
        entry.push_str(&sentences.join(" "));
    }
    entry
}

fn block_entry(b: &NestedBlock, parent: &[&str], section: Section) -> String {
    let kind = match b.nesting {
        Nesting::Single | Nesting::Group => "Block",
        Nesting::List => "Block List",
        Nesting::Set => "Block Set",
        Nesting::Map => "Block Map",
    };
    let mut traits = vec![kind.to_string()];
    traits.push(section.heading().to_string());
    if b.min_items > 0 && !matches!(b.nesting, Nesting::Single | Nesting::Group) {
        traits.push(format!("Min: {}", b.min_items));
    }
    if b.max_items > 0 && !matches!(b.nesting, Nesting::Single | Nesting::Group) {
        traits.push(format!("Max: {}", b.max_items));
    }
    let mut path = parent.to_vec();
    path.push(&b.type_name);
    let mut entry = format!("- `{}` ({})", b.type_name, traits.join(", "));
    let description = b.block.description.trim();
    if !description.is_empty() {
        entry.push(' ');
        entry.push_str(description);
    }
    entry.push_str(&format!(
        " (see [below for nested schema](#{}))",
        anchor(&path)
    ));
    entry
}

fn type_label(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(inner) => format!("List of {}", type_label(inner)),
        Type::Set(inner) => format!("Set of {}", type_label(inner)),
        Type::Map(inner) => format!("Map of {}", type_label(inner)),
        Type::Object { attrs, .. } => {
            let fields: Vec<String> = attrs
                .iter()
                .map(|(name, t)| format!("{name}: {}", type_label(t)))
                .collect();
            format!("Object ({})", fields.join(", "))
        }
        Type::Tuple(items) => {
            let items: Vec<String> = items.iter().map(type_label).collect();
            format!("Tuple ({})", items.join(", "))
        }
    }
}

/// A default as it would be written in configuration.
fn hcl_literal(value: &TfValue) -> String {
    match value {
        TfValue::Null => "null".into(),
        TfValue::Unknown(_) => "(known after apply)".into(),
        TfValue::Bool(b) => b.to_string(),
        TfValue::Number(n) => n.to_string(),
        TfValue::String(s) => serde_json::Value::String(s.clone()).to_string(),
        TfValue::List(items) | TfValue::Set(items) | TfValue::Tuple(items) => {
            let items: Vec<String> = items.iter().map(hcl_literal).collect();
            format!("[{}]", items.join(", "))
        }
        TfValue::Map(fields) | TfValue::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k} = {}", hcl_literal(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        TfValue::Dynamic(_, inner) => hcl_literal(inner),
    }
}

/// Every block and attribute, at any depth, that has no description, as
/// `<where>: <path>` (e.g. `resource kiro_x: timeouts.create`). The pages
/// are only as good as these texts.
pub fn missing_descriptions(catalog: &Catalog) -> Vec<String> {
    let mut missing = Vec::new();
    undescribed(
        &catalog.provider.block,
        "provider",
        &mut Vec::new(),
        &mut missing,
    );
    for (kind, types) in [
        (Kind::Resource, &catalog.resources),
        (Kind::DataSource, &catalog.data_sources),
    ] {
        for (name, schema) in types {
            let owner = format!("{} {name}", kind.noun());
            undescribed(&schema.block, &owner, &mut Vec::new(), &mut missing);
        }
    }
    missing
}

fn undescribed(block: &Block, owner: &str, path: &mut Vec<String>, missing: &mut Vec<String>) {
    if block.description.trim().is_empty() {
        let at = if path.is_empty() {
            "(the block itself)".to_string()
        } else {
            format!("block {}", path.join("."))
        };
        missing.push(format!("{owner}: {at}"));
    }
    for a in &block.attributes {
        if a.description.trim().is_empty() {
            let mut full = path.clone();
            full.push(a.name.clone());
            missing.push(format!("{owner}: {}", full.join(".")));
        }
    }
    for b in &block.blocks {
        path.push(b.type_name.clone());
        undescribed(&b.block, owner, path, missing);
        path.pop();
    }
}

/// How a file under `docs/` differs from what the schemas render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// Rendered but not on disk.
    Missing(PathBuf),
    /// On disk with other content.
    Differs(PathBuf),
    /// On disk but rendered from nothing (a removed or renamed type).
    Orphan(PathBuf),
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::Missing(p) => write!(f, "{} is missing", p.display()),
            Stale::Differs(p) => write!(f, "{} is out of date", p.display()),
            Stale::Orphan(p) => write!(f, "{} documents nothing that exists", p.display()),
        }
    }
}

/// Compares rendered pages with the Markdown files under `docs_dir`.
pub fn stale(pages: &[Page], docs_dir: &Path) -> io::Result<Vec<Stale>> {
    let mut found = Vec::new();
    for page in pages {
        let path = docs_dir.join(&page.path);
        match std::fs::read_to_string(&path) {
            Ok(text) if text == page.content => {}
            Ok(_) => found.push(Stale::Differs(path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => found.push(Stale::Missing(path)),
            Err(e) => return Err(e),
        }
    }
    for path in orphans(pages, docs_dir)? {
        found.push(Stale::Orphan(path));
    }
    Ok(found)
}

/// Writes the pages that changed and removes orphaned ones; returns what
/// it touched.
pub fn write(pages: &[Page], docs_dir: &Path) -> io::Result<Vec<Stale>> {
    let changes = stale(pages, docs_dir)?;
    for change in &changes {
        match change {
            Stale::Missing(path) | Stale::Differs(path) => {
                let page = pages
                    .iter()
                    .find(|p| docs_dir.join(&p.path) == *path)
                    .expect("a stale page was rendered");
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(path, &page.content)?;
            }
            Stale::Orphan(path) => std::fs::remove_file(path)?,
        }
    }
    Ok(changes)
}

/// `docs/guides/`: the Registry's guide pages, written by hand, never rendered, so neither
/// stale nor orphaned.
pub const GUIDES_DIR: &str = "guides";

/// Markdown files under `docs_dir` that no page renders, sorted (the guides aside).
fn orphans(pages: &[Page], docs_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let rendered: BTreeSet<PathBuf> = pages.iter().map(|p| docs_dir.join(&p.path)).collect();
    let guides = docs_dir.join(GUIDES_DIR);
    let mut found = Vec::new();
    let mut dirs = vec![docs_dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path == guides {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") && !rendered.contains(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests;
