//! The `terraform-provider-kiro` executable: run by Terraform, never by hand
//! (except with `--debug`, to attach Terraform through TF_REATTACH_PROVIDERS).

use std::process::ExitCode;
use std::sync::Arc;

use kiro_provider::framework::rpc::ProviderService;
use kiro_provider::framework::runtime::Runtime;
use kiro_provider::provider::KiroProvider;
use kiro_provider::server::{self, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, Mode, logging};

const PROVIDER_ADDRESS: &str = "registry.terraform.io/kiro-entra/kiro";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-kiro {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let debug = args.iter().any(|a| a == "--debug");
    if !debug && std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "This binary is a plugin for Terraform. It is not meant to be run by hand:\n\
             put it in a provider mirror and run terraform, or start it with --debug and \
             attach Terraform through TF_REATTACH_PROVIDERS."
        );
        return ExitCode::from(1);
    }
    logging::init();
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic in the provider");
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mode = if debug {
        Mode::Debug {
            provider_address: PROVIDER_ADDRESS.to_string(),
        }
    } else {
        Mode::Managed
    };
    let service = || Arc::new(Runtime::new(KiroProvider)) as Arc<dyn ProviderService>;
    match runtime.block_on(server::serve(service, mode)) {
        Ok(()) => {
            // Terraform waits for the process to end before it goes on: leave
            // without waiting for the runtime's idle threads.
            runtime.shutdown_background();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("terraform-provider-kiro: {e}");
            ExitCode::from(1)
        }
    }
}
