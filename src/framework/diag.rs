//! Diagnostics: what the person running Terraform reads when something is
//! wrong, optionally pointing at the attribute that caused it.

use std::fmt;

/// One step of a path into a value: `.name`, `["key"]` or `[3]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path from the root of a resource's (or provider's) configuration to one
/// attribute, as Terraform shows it under the error (`on main.tf line 3, in
/// resource …: display_name = ""`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }

    /// The path to a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        AttrPath(vec![PathStep::Attribute(name.into())])
    }

    pub fn then_attr(&self, name: impl Into<String>) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Attribute(name.into()));
        AttrPath(steps)
    }

    pub fn then_key(&self, key: impl Into<String>) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(key.into()));
        AttrPath(steps)
    }

    pub fn then_index(&self, index: i64) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(index));
        AttrPath(steps)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub attribute: Option<AttrPath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// Points the diagnostic at an attribute; Terraform then shows the
    /// configuration line that set it.
    pub fn at(mut self, path: AttrPath) -> Self {
        self.attribute = if path.is_root() { None } else { Some(path) };
        self
    }
}

/// An ordered collection of diagnostics; errors make the operation fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    pub fn attr_error(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_reads_like_hcl() {
        let path = AttrPath::attr("attribute_mapping")
            .then_index(2)
            .then_attr("target_attribute");
        assert_eq!(path.to_string(), "attribute_mapping[2].target_attribute");
        assert_eq!(
            AttrPath::attr("tags").then_key("env").to_string(),
            "tags[\"env\"]"
        );
    }

    #[test]
    fn errors_are_detected_and_root_paths_dropped() {
        let mut diags = Diagnostics::new();
        diags.push(Diagnostic::warning("w", "").at(AttrPath::root()));
        assert!(!diags.has_errors());
        assert_eq!(diags.0[0].attribute, None);
        diags.attr_error(AttrPath::attr("x"), "bad", "worse");
        assert!(diags.has_errors());
    }
}
