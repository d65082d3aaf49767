//! A small writer of Terraform configuration: blocks with comments above them, rendered by
//! `hcl-rs` (which quotes and escapes strings, `${` and `%{` included), then aligned the way
//! `terraform fmt` aligns consecutive arguments. Knows nothing of Kiro.

use hcl::expr::{Traversal, Variable};
use hcl::{Block, Body, Expression};

/// A string literal.
pub fn string(value: &str) -> Expression {
    Expression::String(value.to_string())
}

/// A reference such as `kiro_entra_application.this.id`: a name, then attributes.
pub fn reference(path: &str) -> Expression {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or_default();
    let mut traversal = Traversal::builder(Variable::unchecked(root));
    for part in parts {
        traversal = traversal.attr(part);
    }
    traversal.build().into()
}

/// An `import` block adopting `id` at `address` (`type.name`).
pub fn import_block(address: &str, id: &str) -> Block {
    Block::builder("import")
        .add_attribute(("to", reference(address)))
        .add_attribute(("id", string(id)))
        .build()
}

/// A block and the comment lines written above it (without `# `).
#[derive(Clone, Debug)]
pub struct Item {
    pub comments: Vec<String>,
    pub block: Block,
    /// Comment lines written inside the block, after its arguments (e.g. an alternative
    /// argument, commented out).
    pub inner_comments: Vec<String>,
}

/// A configuration file: items in the order pushed, separated by blank lines.
#[derive(Clone, Debug, Default)]
pub struct Document {
    header: Vec<String>,
    items: Vec<Item>,
}

impl Document {
    /// A document that starts with these comment lines.
    pub fn with_header(header: Vec<String>) -> Self {
        Document {
            header,
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, comments: Vec<String>, block: Block) {
        self.push_item(Item {
            comments,
            block,
            inner_comments: Vec::new(),
        });
    }

    pub fn push_item(&mut self, item: Item) {
        self.items.push(item);
    }

    /// The file's text, formatted as `terraform fmt` leaves it.
    pub fn render(&self) -> String {
        let mut out = comment_lines(&self.header);
        for item in &self.items {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&comment_lines(&item.comments));
            let body = Body::builder().add_block(item.block.clone()).build();
            let text = hcl::format::to_string(&body).expect("a built HCL body always formats");
            out.push_str(&with_inner_comments(&align(&text), &item.inner_comments));
        }
        out
    }
}

/// `block` (ending `}\n`) with `comments` indented inside, before its closing brace.
fn with_inner_comments(block: &str, comments: &[String]) -> String {
    if comments.is_empty() {
        return block.to_string();
    }
    let body = block.trim_end().strip_suffix('}').unwrap_or(block);
    let inner: String = comment_lines(comments)
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    format!("{body}\n{inner}}}\n")
}

fn comment_lines(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

/// Where the key of an argument line (`key = value`, the key an identifier or a quoted
/// string) ends; `None` for any other line.
fn key_end(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let len = if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        let close = quoted.char_indices().find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })?;
        close.0 + 2
    } else {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))?
    };
    (len > 0 && rest[len..].starts_with(" = ")).then_some(indent + len)
}

/// True for an argument on one line: a multi-line value (`{` or `[` left open) stands alone.
fn single_line_argument(line: &str) -> Option<usize> {
    let end = key_end(line)?;
    let opens = line.ends_with('{') || line.ends_with('[');
    (!opens).then_some(end)
}

/// Pads the keys of consecutive one-line arguments at the same indentation to one width.
pub fn align(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut j = i;
        while j < lines.len()
            && single_line_argument(lines[j]).is_some()
            && indent(lines[j]) == indent(lines[i])
        {
            j += 1;
        }
        if j == i {
            out.push(lines[i].to_string());
            i += 1;
            continue;
        }
        let width = lines[i..j]
            .iter()
            .filter_map(|l| single_line_argument(l))
            .max()
            .unwrap_or(0);
        for line in &lines[i..j] {
            let end = single_line_argument(line).unwrap_or(0);
            let (key, value) = line.split_at(end);
            out.push(format!("{key}{}{value}", " ".repeat(width - end)));
        }
        i = j;
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

#[cfg(test)]
#[path = "hcl_tests.rs"]
mod tests;
