use hcl::Block;

use super::*;
use crate::adopt::names::{Names, identifier};

fn resource(args: &[(&str, Expression)]) -> Block {
    let mut b = Block::builder("resource").add_label("t").add_label("n");
    for (k, v) in args {
        b = b.add_attribute((*k, v.clone()));
    }
    b.build()
}

#[test]
fn strings_are_quoted_and_escaped_so_terraform_reads_them_back_verbatim() {
    let tricky = "say \"hi\"\\ ${var.x} %{ if } line\nnext\ttab";
    let mut doc = Document::default();
    doc.push(Vec::new(), resource(&[("v", string(tricky))]));
    let text = doc.render();
    assert_eq!(
        text,
        "resource \"t\" \"n\" {\n  v = \"say \\\"hi\\\"\\\\ $${var.x} %%{ if } line\\nnext\\ttab\"\n}\n"
    );
    // Read back (templates evaluated), it is the same string: nothing in it interpolates.
    let value = text.lines().nth(1).unwrap().split_once(" = ").unwrap().1;
    let parsed: hcl::Value = hcl::from_str(&format!("v = {value}\n")).unwrap();
    let parsed = parsed.as_object().unwrap()["v"].clone();
    assert_eq!(parsed, hcl::Value::from(tricky));
}

#[test]
fn references_are_written_bare_and_arguments_aligned_as_terraform_fmt_does() {
    let mut doc = Document::with_header(vec!["Header.".into(), String::new()]);
    doc.push(Vec::new(), import_block("kiro_profile.this", "arn:x|y"));
    doc.push(
        vec!["About it.".into()],
        resource(&[
            (
                "application_id",
                reference("kiro_entra_application.this.id"),
            ),
            ("v", string("x")),
            (
                "tags",
                hcl::Expression::Object(
                    [
                        (
                            hcl::ObjectKey::Expression(string("cost center")),
                            string("1"),
                        ),
                        (hcl::ObjectKey::Expression(string("a")), string("2")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            ("enabled", false.into()),
        ]),
    );
    let text = doc.render();
    assert_eq!(
        text,
        r#"# Header.
#

import {
  to = kiro_profile.this
  id = "arn:x|y"
}

# About it.
resource "t" "n" {
  application_id = kiro_entra_application.this.id
  v              = "x"
  tags = {
    "cost center" = "1"
    "a"           = "2"
  }
  enabled = false
}
"#
    );
}

#[test]
fn comments_inside_a_block_come_before_its_closing_brace() {
    let mut doc = Document::default();
    doc.push_item(Item {
        comments: Vec::new(),
        block: resource(&[("a", 1.into())]),
        inner_comments: vec!["x {".into(), "  y = 1".into(), "}".into()],
    });
    assert_eq!(
        doc.render(),
        "resource \"t\" \"n\" {\n  a = 1\n\n  # x {\n  #   y = 1\n  # }\n}\n"
    );
}

#[test]
fn names_derived_from_values_are_valid_stable_identifiers() {
    assert_eq!(
        identifier("codewhisperer:completions", "scope"),
        "codewhisperer_completions"
    );
    assert_eq!(
        identifier("kiro.oauth/callback", "uri"),
        "kiro_oauth_callback"
    );
    assert_eq!(
        identifier("Kiro Developers (EU)", "group"),
        "kiro_developers_eu"
    );
    assert_eq!(identifier("365 Admins", "group"), "group_365_admins");
    assert_eq!(identifier("::", "scope"), "scope");
    assert_eq!(identifier("Développeurs", "group"), "d_veloppeurs");
    let mut names = Names::default();
    let got: Vec<String> = ["a:b", "a b", "a-b", "other"]
        .iter()
        .map(|t| names.unique(t, "x"))
        .collect();
    assert_eq!(got, ["a_b", "a_b_2", "a_b_3", "other"]);
    for name in &got {
        let text = format!("resource \"t\" \"{name}\" {{}}\nx = t.{name}\n");
        hcl::from_str::<hcl::Body>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
