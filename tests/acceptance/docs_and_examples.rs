//! What users read: `docs/` is exactly what the schemas render, every
//! block and attribute is described, every resource and data source has
//! an example, and every example formats, initializes and validates against
//! the locally built provider, offline.

use std::path::{Path, PathBuf};

use kiro_provider::docs::{self, Catalog, DOCS_COMMAND, module};
use kiro_provider::provider::KiroProvider;

use crate::harness::{AWS_PROVIDER, Run, Workspace, aws_plugin_mirror};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn catalog() -> Catalog {
    Catalog::of("kiro", &KiroProvider)
}

fn bullets(items: impl IntoIterator<Item = impl std::fmt::Display>) -> String {
    items
        .into_iter()
        .map(|item| format!("- {item}\n"))
        .collect()
}

#[test]
fn every_resource_and_data_source_has_an_example() {
    if let Err(problems) = docs::render(&catalog(), &repo().join("examples")) {
        panic!("{problems}");
    }
}

#[test]
fn docs_are_current() {
    let pages = docs::render(&catalog(), &repo().join("examples")).unwrap_or_else(|problems| {
        panic!("{problems}(every_resource_and_data_source_has_an_example says the same)")
    });
    let stale = docs::stale(&pages, &repo().join("docs")).expect("read docs/");
    assert!(
        stale.is_empty(),
        "docs/ does not match the schemas and examples:\n{}Run `{DOCS_COMMAND}` and commit docs/.",
        bullets(&stale)
    );
}

/// The hand-written guides (`docs/guides/*.md`, which `kiro-docs` leaves alone) carry the
/// Registry's front matter, and every link from one guide to another names a guide that
/// exists.
#[test]
fn guides_have_registry_front_matter() {
    let dir = repo().join("docs").join(docs::GUIDES_DIR);
    let mut guides: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("docs/guides")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guides.sort();
    assert!(!guides.is_empty(), "no guides in {}", dir.display());
    let mut problems = Vec::new();
    for guide in &guides {
        let name = guide.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(guide).unwrap();
        let front = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front);
        let Some(front) = front else {
            problems.push(format!("{name}: no front matter between --- lines"));
            continue;
        };
        for key in ["page_title: \"", "subcategory: \"", "description: |-\n  "] {
            if !front.contains(key) {
                problems.push(format!("{name}: front matter lacks {}", key.trim_end()));
            }
        }
        for (i, _) in text.match_indices("](") {
            let target = text[i + 2..].split([')', '#']).next().unwrap_or_default();
            if target.ends_with(".md") && !target.contains('/') && !dir.join(target).exists() {
                problems.push(format!("{name}: links to {target}, which is not a guide"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", bullets(&problems));
}

/// Each module's README lists every input and output as its .tf files declare them.
#[test]
fn module_readmes_are_current() {
    let modules = repo().join("examples").join("modules");
    let readmes = module::render_readmes(&modules).unwrap_or_else(|problem| panic!("{problem}"));
    assert!(!readmes.is_empty(), "no module under {}", modules.display());
    let stale = module::stale_readmes(&readmes).expect("read the module READMEs");
    assert!(
        stale.is_empty(),
        "module READMEs do not match the modules' .tf files:\n{}Run `{DOCS_COMMAND}` and commit them.",
        bullets(&stale)
    );
}

#[test]
fn every_block_and_attribute_is_described() {
    let missing = docs::missing_descriptions(&catalog());
    assert!(
        missing.is_empty(),
        "these have an empty description (give each a `.describe(...)` text; the docs show it):\n{}",
        bullets(&missing)
    );
}

/// `examples/provider`, each `examples/resources/*`, `examples/data-sources/*` and
/// `examples/modules/*`, `examples/complete` and `examples/multi-tenant`, sorted.
fn example_dirs() -> Vec<PathBuf> {
    let examples = repo().join("examples");
    let mut dirs = vec![
        examples.join("provider"),
        examples.join("complete"),
        examples.join("multi-tenant"),
    ];
    for kind in ["resources", "data-sources", "modules"] {
        let Ok(entries) = std::fs::read_dir(examples.join(kind)) else {
            continue;
        };
        dirs.extend(
            entries
                .map(|e| e.expect("list examples").path())
                .filter(|p| p.is_dir()),
        );
    }
    dirs.sort();
    dirs
}

/// The example's own `.tf` files (not `.terraform/` or other leftovers of
/// a local run), by name.
fn tf_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("list example").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read example");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    files
}

fn uses_aws(files: &[(String, String)]) -> bool {
    files.iter().any(|(_, text)| {
        text.contains("hashicorp/aws")
            || text.contains("resource \"aws_")
            || text.contains("data \"aws_")
    })
}

/// Calls a module of `examples/modules/` (which needs hashicorp/aws too).
fn uses_example_modules(files: &[(String, String)]) -> bool {
    files.iter().any(|(_, text)| text.contains("\"../modules/"))
}

fn report(run: &Run) -> String {
    format!(
        "`{}` exited {:?}:\n{}",
        run.command,
        run.status,
        run.output().trim()
    )
}

/// Checks one example directory; returns what is wrong with it.
fn check_example(dir: &Path) -> Result<(), String> {
    let files = tf_files(dir);
    if files.is_empty() {
        return Err("has no .tf files".to_string());
    }
    let ws = Workspace::new();
    for (name, text) in &files {
        ws.write(name, text);
    }
    let fmt = ws.run(&["fmt", "-check", "-recursive", "-diff", "-no-color"]);
    if fmt.status != Some(0) {
        return Err(format!(
            "is not formatted (run `terraform fmt -recursive examples`): {}",
            report(&fmt)
        ));
    }
    if uses_aws(&files) || uses_example_modules(&files) {
        let mirror = aws_plugin_mirror()?;
        ws.add_mirror(&mirror, &[AWS_PROVIDER]);
    }
    if uses_example_modules(&files) {
        ws.add_example_modules();
    }
    let init = ws.run(&["init", "-backend=false", "-input=false", "-no-color"]);
    if init.status != Some(0) {
        let hint = if init.output().contains("hashicorp/kiro") {
            "\nHint: the example needs `terraform { required_providers { kiro = { source = \
             \"kiro-entra/kiro\" } } }` (resource examples keep it in providers.tf)."
        } else {
            ""
        };
        return Err(format!("does not initialize: {}{hint}", report(&init)));
    }
    let validate = ws.run(&["validate", "-no-color"]);
    if validate.status != Some(0) {
        return Err(format!("is not valid: {}", report(&validate)));
    }
    Ok(())
}

#[test]
fn examples_are_formatted_and_valid() {
    let dirs = example_dirs();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            check_example(dir)
                .err()
                .map(|why| format!("{} {why}", dir.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples fail:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}
