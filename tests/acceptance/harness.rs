//! A fresh Terraform working directory per test, with its own filesystem
//! mirror holding the provider binary and its own CLI configuration, so the
//! machine's Terraform settings and the network play no part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    kiro = { source = "kiro-entra/kiro" }
  }
}
"#;

/// The provider binary the workspaces install: this build, or (for the
/// benchmark's before/after comparisons) the one `KIRO_PROVIDER_BIN` names.
pub fn provider_binary() -> std::path::PathBuf {
    std::env::var_os("KIRO_PROVIDER_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_terraform-provider-kiro").into())
}

/// Where the machine keeps an unpacked filesystem mirror of the third-party providers that
/// examples use next to kiro (hashicorp/aws for Route 53 records); `KIRO_TF_PLUGIN_MIRROR`
/// points elsewhere.
pub const DEFAULT_PLUGIN_MIRROR: &str = "/opt/tf-plugins";
pub const AWS_PROVIDER: &str = "registry.terraform.io/hashicorp/aws";

/// The plugin mirror holding hashicorp/aws, or what is missing: `terraform init` can get it
/// offline only from there, so a configuration that needs it cannot run without it.
pub fn aws_plugin_mirror() -> Result<PathBuf, String> {
    let mirror = std::env::var("KIRO_TF_PLUGIN_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(DEFAULT_PLUGIN_MIRROR));
    if mirror.join(AWS_PROVIDER).is_dir() {
        Ok(mirror)
    } else {
        Err(format!(
            "this needs hashicorp/aws, which `terraform init` can only get offline from a \
             filesystem mirror: none at {} (expected {}/<version>/linux_amd64/; set \
             KIRO_TF_PLUGIN_MIRROR to another mirror)",
            mirror.display(),
            mirror.join(AWS_PROVIDER).display()
        ))
    }
}

/// Copies the `.tf` files of `from` and its subdirectories to `to`.
fn copy_tf_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.is_dir() && name != ".terraform" {
            copy_tf_tree(&path, &to.join(name));
        } else if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

pub struct Workspace {
    _root: tempfile::TempDir,
    pub dir: PathBuf,
    cli_config: PathBuf,
    extra_env: Vec<(String, String)>,
}

/// What a terraform run printed, for assertions and failure messages.
pub struct Run {
    pub command: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stdout with every run of white space as one space: Terraform wraps a diagnostic's
    /// lines at the terminal width, wherever its words fall.
    pub fn flat_stdout(&self) -> String {
        self.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.status, self.elapsed, self.stdout, self.stderr
        )
    }

    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        let root = tempfile::tempdir().expect("temp dir");
        let mirror = root.path().join("mirror");
        let platform = mirror.join(format!(
            "registry.terraform.io/kiro-entra/kiro/{PROVIDER_VERSION}/linux_amd64"
        ));
        std::fs::create_dir_all(&platform).unwrap();
        std::os::unix::fs::symlink(
            provider_binary(),
            platform.join(format!("terraform-provider-kiro_v{PROVIDER_VERSION}")),
        )
        .unwrap();
        let cli_config = root.path().join("terraform.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/kiro-entra/kiro\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .unwrap();
        let dir = root.path().join("work");
        std::fs::create_dir_all(&dir).unwrap();
        Workspace {
            _root: root,
            dir,
            cli_config,
            extra_env: Vec::new(),
        }
    }

    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.extra_env.push((key.to_string(), value.to_string()));
        self
    }

    /// Also installs `providers` (e.g. `registry.terraform.io/hashicorp/aws`)
    /// from the unpacked filesystem mirror at `path`, such as the one this
    /// machine keeps in /opt/tf-plugins.
    pub fn add_mirror(&self, path: &Path, providers: &[&str]) {
        let config = std::fs::read_to_string(&self.cli_config).unwrap();
        let open = config
            .trim_end()
            .strip_suffix('}')
            .expect("the CLI configuration ends with provider_installation's brace");
        let include: Vec<String> = providers.iter().map(|p| format!("\"{p}\"")).collect();
        let config = format!(
            "{open}  filesystem_mirror {{\n    path    = \"{}\"\n    include = [{}]\n  }}\n}}\n",
            path.display(),
            include.join(", ")
        );
        std::fs::write(&self.cli_config, config).unwrap();
    }

    /// Replaces how Terraform installs providers: the CLI configuration becomes
    /// `provider_installation { <methods> }` (e.g. one `network_mirror` block).
    pub fn install_providers_with(&self, methods: &str) {
        std::fs::write(
            &self.cli_config,
            format!("provider_installation {{\n{methods}\n}}\n"),
        )
        .unwrap();
    }

    /// Installs hashicorp/aws from the machine's plugin mirror ([`aws_plugin_mirror`]);
    /// panics saying what is missing when there is none.
    pub fn add_aws_mirror(&self) {
        let mirror = aws_plugin_mirror().unwrap_or_else(|missing| panic!("{missing}"));
        self.add_mirror(&mirror, &[AWS_PROVIDER]);
    }

    /// Copies the repository's `examples/modules/` beside the working directory, so that a
    /// configuration at `examples/<name>/` finds `../modules/<module>` as it does there.
    pub fn add_example_modules(&self) {
        let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/modules");
        let target = self
            .dir
            .parent()
            .expect("the work dir has a parent")
            .join("modules");
        copy_tf_tree(&modules, &target);
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.join(name), content).unwrap();
    }

    /// Writes `main.tf`: the `required_providers` block, then `body`.
    pub fn write_main(&self, body: &str) {
        self.write("main.tf", &format!("{REQUIRED_PROVIDERS}\n{body}"));
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// Starts `terraform <args>` in the workspace without waiting for it, its stdout and
    /// stderr going to the file `output`: for tests that act while it runs, e.g. kill it.
    pub fn spawn(&self, args: &[&str], output: &Path) -> std::process::Child {
        let out = std::fs::File::create(output).expect("terraform's output file");
        let err = out.try_clone().expect("terraform's output file");
        self.command(args)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start terraform (is it on PATH?)")
    }

    /// Uses `other`'s `terraform init` (its `.terraform` directory and lock file) for this
    /// workspace of the same configuration: the same providers, without running init again.
    pub fn reuse_init_of(&self, other: &Workspace) {
        let status = Command::new("cp")
            .arg("-a")
            .arg(other.dir.join(".terraform"))
            .arg(other.dir.join(".terraform.lock.hcl"))
            .arg(&self.dir)
            .status()
            .expect("cp");
        assert!(status.success(), "copying {}'s init", other.dir.display());
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("terraform");
        cmd.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.parent().unwrap_or(Path::new("/tmp")))
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform <args>` in the workspace.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let started = Instant::now();
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("run terraform (is it on PATH?)");
        Run {
            command: format!("terraform {}", args.join(" ")),
            status: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    /// Runs terraform and fails the test, showing everything, unless it
    /// exits 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.status, Some(0), "terraform failed\n{}", run.describe());
        run
    }

    /// Runs terraform expecting it to fail; returns what it printed.
    pub fn fails(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_ne!(
            run.status,
            Some(0),
            "terraform unexpectedly succeeded\n{}",
            run.describe()
        );
        run
    }

    pub fn init(&self) -> Run {
        self.ok(&["init", "-no-color"])
    }

    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-no-color"])
    }

    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-no-color"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes (1 = error fails the test).
    pub fn plan_exit_code(&self) -> (i32, Run) {
        let run = self.run(&["plan", "-detailed-exitcode", "-no-color"]);
        match run.status {
            Some(0) => (0, run),
            Some(2) => (2, run),
            _ => panic!("terraform plan failed\n{}", run.describe()),
        }
    }

    pub fn assert_no_changes(&self) {
        let (code, run) = self.plan_exit_code();
        assert_eq!(code, 0, "expected no changes\n{}", run.describe());
    }

    /// The state as `terraform show -json` prints it.
    pub fn state(&self) -> serde_json::Value {
        let run = self.ok(&["show", "-json"]);
        serde_json::from_str(&run.stdout).expect("terraform show -json")
    }

    /// One string attribute of a resource in the state.
    pub fn attr(&self, address: &str, name: &str) -> String {
        let values = self.resource(address);
        values[name]
            .as_str()
            .unwrap_or_else(|| panic!("{address}.{name} is not a string: {values:#}"))
            .to_string()
    }

    /// The attribute values of one resource address in the state.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.state();
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} is not in the state: {state:#}"))
    }
}

/// A process's parent, from `/proc/<pid>/stat` (`pid (comm) state ppid ...`; the command
/// name may hold spaces and parentheses, so the fields are read after its last `)`).
pub fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
