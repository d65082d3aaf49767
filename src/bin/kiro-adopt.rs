//! `kiro-adopt`: writes the Terraform configuration that adopts a Kiro setup made by hand in
//! the Entra and AWS portals. Reads the provider's environment variables for credentials and
//! endpoints. See docs/guides/adopting.md.

use std::io::Write;
use std::process::ExitCode;

use kiro_provider::adopt::{Lookup, ScimTokenMode, Setup, connect, discover, write_configuration};

const USAGE: &str = "\
Usage: kiro-adopt --application <display name | client id | object id>
                  [--profile <profile ARN | name>] [--out <file> | --out -]
                  [--scim-token keep|mint|variable] [--force]

Finds the application, its scopes, redirect URIs, assignments and provisioning job in Entra,
and the Kiro profile (the one trusting the application unless --profile names one), its
domains and subscriptions, and writes `import` blocks and resource blocks for them (default
file: adopted.tf). Credentials and endpoints come from the provider's environment variables
(ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET, …; AWS_REGION and the AWS credential chain;
KIRO_ENDPOINT_GRAPH, KIRO_ENDPOINT_LOGIN, KIRO_ENDPOINT_KIRO).
--scim-token: keep (default) leaves the SCIM token saved in Entra as it is; mint writes a
kiro_scim_token block (the first apply mints a new token); variable writes secret_token_wo
from var.scim_token.";

struct Args {
    lookup: Lookup,
    out: String,
    mode: ScimTokenMode,
    force: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut application, mut profile, mut out) = (None, None, "adopted.tf".to_string());
    let (mut mode, mut force) = (ScimTokenMode::Keep, false);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--application" => application = Some(value()?),
            "--profile" => profile = Some(value()?),
            "--out" => out = value()?,
            "--scim-token" => {
                mode = match value()?.as_str() {
                    "keep" => ScimTokenMode::Keep,
                    "mint" => ScimTokenMode::Mint,
                    "variable" => ScimTokenMode::Variable,
                    other => {
                        return Err(format!(
                            "--scim-token {other:?}: use keep, mint or variable"
                        ));
                    }
                }
            }
            "--force" => force = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let application = application.ok_or("--application is required")?;
    Ok(Args {
        lookup: Lookup {
            application,
            profile,
        },
        out,
        mode,
        force,
    })
}

/// One line per kind of piece found, for the person running the command.
fn summary(setup: &Setup) -> String {
    let app = &setup.application;
    let mut lines = vec![format!(
        "application {:?} (object id {}): {} scope(s), {} redirect URI(s), {} assignment(s), {}",
        app.display_name,
        app.object_id,
        setup.scopes.len(),
        setup.redirect_uris.len(),
        setup.assignments.len(),
        if setup.provisioning.is_some() {
            "a provisioning job"
        } else {
            "no provisioning job"
        },
    )];
    if app.identifier_uri_missing {
        lines.push(format!(
            "note: the application has no Application ID URI; the first apply adds api://{} (see \
             the comment in the file)",
            app.client_id
        ));
    }
    lines.push(match &setup.profile {
        Some(p) => format!(
            "profile {} ({}): {} domain(s), {} subscription(s)",
            p.name,
            p.arn,
            setup.domains.len(),
            setup.subscriptions.len()
        ),
        None => "no Kiro profile trusts this application (name one with --profile)".into(),
    });
    lines.join("\n")
}

fn write_out(args: &Args, text: &str) -> Result<(), String> {
    if args.out == "-" {
        return std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options
        .open(&args.out)
        .map_err(|e| format!("cannot write {}: {e} (--force overwrites it)", args.out))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", args.out))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("kiro-adopt: {problem}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let found = async {
        let clients = connect().await?;
        discover(&clients, &args.lookup).await
    };
    let setup = match found.await {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("kiro-adopt: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", summary(&setup));
    if let Err(e) = write_out(&args, &write_configuration(&setup, args.mode)) {
        eprintln!("kiro-adopt: {e}");
        return ExitCode::FAILURE;
    }
    if args.out != "-" {
        eprintln!("wrote {}; next: terraform init && terraform plan", args.out);
    }
    ExitCode::SUCCESS
}
