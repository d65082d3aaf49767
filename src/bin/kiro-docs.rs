//! Writes the Registry documentation (`docs/`) from the provider's schemas
//! and the files under `examples/`. With `--check` it writes nothing and
//! exits 1 when `docs/` is out of date, naming each stale file.

use std::path::Path;
use std::process::ExitCode;

use kiro_provider::docs::{self, Catalog, DOCS_COMMAND, Stale};
use kiro_provider::provider::KiroProvider;

const USAGE: &str = "usage: kiro-docs [--check]\n\n\
    Renders docs/ from the provider's schemas and examples/.\n\
    --check  write nothing; exit 1 when docs/ is out of date";

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
    let result = if check {
        docs::stale(&pages, &docs_dir)
    } else {
        docs::write(&pages, &docs_dir)
    };
    let changes = match result {
        Ok(changes) => changes,
        Err(e) => {
            eprintln!("kiro-docs: cannot update {}: {e}", docs_dir.display());
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
        eprintln!("kiro-docs: docs/ is out of date; run `{DOCS_COMMAND}`");
        return ExitCode::FAILURE;
    }
    if !check {
        println!(
            "{} pages in {}, {} changed",
            pages.len(),
            docs_dir.display(),
            changes.len()
        );
    }
    ExitCode::SUCCESS
}
