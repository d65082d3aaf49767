//! `kiro-adopt`: writes the Terraform configuration that adopts a Kiro setup made by hand in
//! the Entra and AWS portals. Reads the provider's environment variables for credentials and
//! endpoints. See docs/guides/adopting.md.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use kiro_provider::adopt::{Lookup, ScimTokenMode, Setup, connect, discover, write_configuration};

/// Finds the application, its scopes, redirect URIs, assignments and provisioning job in
/// Entra, and the Kiro profile (the one trusting the application unless --profile names one),
/// its domains and subscriptions, and writes `import` blocks and resource blocks for them.
/// Credentials and endpoints come from the provider's environment variables (ARM_TENANT_ID,
/// ARM_CLIENT_ID, ARM_CLIENT_SECRET, …; AWS_REGION and the AWS credential chain;
/// KIRO_ENDPOINT_GRAPH, KIRO_ENDPOINT_LOGIN, KIRO_ENDPOINT_KIRO).
#[derive(Parser)]
#[command(name = "kiro-adopt", version)]
struct Args {
    /// The application: its display name, client id or object id.
    #[arg(long)]
    application: String,
    /// The Kiro profile: its ARN or name (default: the one trusting the application).
    #[arg(long)]
    profile: Option<String>,
    /// The file to write, or - for standard output.
    #[arg(long, default_value = "adopted.tf")]
    out: String,
    /// keep leaves the SCIM token saved in Entra as it is; mint writes a kiro_scim_token
    /// block (the first apply mints a new token); variable writes secret_token_wo from
    /// var.scim_token.
    #[arg(long, value_enum, default_value_t = TokenMode::Keep)]
    scim_token: TokenMode,
    /// Overwrite the file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TokenMode {
    Keep,
    Mint,
    Variable,
}

impl From<TokenMode> for ScimTokenMode {
    fn from(mode: TokenMode) -> Self {
        match mode {
            TokenMode::Keep => ScimTokenMode::Keep,
            TokenMode::Mint => ScimTokenMode::Mint,
            TokenMode::Variable => ScimTokenMode::Variable,
        }
    }
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
    let args = Args::parse();
    let lookup = Lookup {
        application: args.application.clone(),
        profile: args.profile.clone(),
    };
    let found = async {
        let clients = connect().await?;
        discover(&clients, &lookup).await
    };
    let setup = match found.await {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("kiro-adopt: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", summary(&setup));
    if let Err(e) = write_out(&args, &write_configuration(&setup, args.scim_token.into())) {
        eprintln!("kiro-adopt: {e}");
        return ExitCode::FAILURE;
    }
    if args.out != "-" {
        eprintln!("wrote {}; next: terraform init && terraform plan", args.out);
    }
    ExitCode::SUCCESS
}
