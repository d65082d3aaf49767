//! Writes the Registry documentation (`docs/`) from the provider's schemas
//! and the files under `examples/`, and the inputs and outputs part of each
//! module README (`examples/modules/<name>/README.md`) from the module's .tf
//! files. With `--check` it writes nothing and exits 1 when any of them is
//! out of date, naming each stale file.

use std::path::Path;
use std::process::ExitCode;

use kiro_provider::docs::{self, Catalog, DOCS_COMMAND, Stale, module};
use kiro_provider::provider::KiroProvider;

const USAGE: &str = "usage: kiro-docs [--check]\n\n\
    Renders docs/ from the provider's schemas and examples/, and the module\n\
    READMEs under examples/modules/ from the modules' .tf files.\n\
    --check  write nothing; exit 1 when docs/ or a module README is out of date";

fn main() -> ExitCode {
    let mut check = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("kiro-docs: unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    // The repository this binary was built from, wherever it is run.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs_dir = root.join("docs");
    let catalog = Catalog::of("kiro", &KiroProvider);
    let pages = match docs::render(&catalog, &root.join("examples")) {
        Ok(pages) => pages,
        Err(problems) => {
            eprint!("kiro-docs: {problems}");
            return ExitCode::FAILURE;
        }
    };
    let readmes = match module::render_readmes(&root.join("examples").join("modules")) {
        Ok(readmes) => readmes,
        Err(problem) => {
            eprintln!("kiro-docs: cannot render the module READMEs: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let result = if check {
        docs::stale(&pages, &docs_dir).and_then(|mut changes| {
            changes.extend(module::stale_readmes(&readmes)?);
            Ok(changes)
        })
    } else {
        docs::write(&pages, &docs_dir).and_then(|mut changes| {
            changes.extend(module::write_readmes(&readmes)?);
            Ok(changes)
        })
    };
    let changes = match result {
        Ok(changes) => changes,
        Err(e) => {
            eprintln!("kiro-docs: cannot update the docs: {e}");
            return ExitCode::FAILURE;
        }
    };
    for change in &changes {
        match (check, change) {
            (true, _) => println!("{change}"),
            (false, Stale::Missing(path)) => println!("wrote {}", path.display()),
            (false, Stale::Differs(path)) => println!("updated {}", path.display()),
            (false, Stale::Orphan(path)) => println!("removed {}", path.display()),
        }
    }
    let undocumented = docs::missing_descriptions(&catalog);
    for place in &undocumented {
        eprintln!("kiro-docs: warning: no description for {place}");
    }
    if check && !changes.is_empty() {
        eprintln!("kiro-docs: docs/ or a module README is out of date; run `{DOCS_COMMAND}`");
        return ExitCode::FAILURE;
    }
    if !check {
        println!(
            "{} pages in {} and {} module READMEs, {} changed",
            pages.len(),
            docs_dir.display(),
            readmes.len(),
            changes.len()
        );
    }
    ExitCode::SUCCESS
}
