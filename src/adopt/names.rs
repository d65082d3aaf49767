//! Names for the written blocks, derived from what they describe (a scope's value, a
//! principal's display name, a domain), so the same setup always gets the same names.

use std::collections::BTreeSet;

/// A Terraform identifier for `text`: lower-case ASCII letters, digits and `_`, runs of
/// anything else folded into one `_`; `fallback` when nothing is left, and `fallback_` in
/// front of a leading digit (an identifier starts with a letter or `_`).
pub fn identifier(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    match trimmed.chars().next() {
        None => fallback.to_string(),
        Some(c) if c.is_ascii_digit() => format!("{fallback}_{trimmed}"),
        Some(_) => trimmed.to_string(),
    }
}

/// Hands out names of one resource type, each once: a repeat gets `_2`, `_3`, ….
#[derive(Default)]
pub struct Names {
    used: BTreeSet<String>,
}

impl Names {
    pub fn unique(&mut self, text: &str, fallback: &str) -> String {
        let base = identifier(text, fallback);
        let mut name = base.clone();
        let mut n = 1;
        while self.used.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.used.insert(name.clone());
        name
    }
}
