//! A Terraform working directory that runs the real Terraform CLI against this crate's provider.
//!
//! The provider binary is wired in with `dev_overrides`, so `plan` and `apply` run without
//! `terraform init` (which would look for the provider in a registry this machine cannot reach).
//! Every command's output is checked for the secrets the test registered: none may ever appear.

use std::path::{Path, PathBuf};
use std::process::Command;

use runai_emulator::{EmulatorConfig, RunningEmulator};

/// The provider source address the test configurations use.
pub const PROVIDER_SOURCE: &str = "runai/runai";

/// The `terraform` block every test configuration starts with.
pub const TERRAFORM_BLOCK: &str = r#"
terraform {
  required_providers {
    runai = { source = "runai/runai" }
  }
}
"#;

/// The Terraform binary: `RUNAI_TEST_TERRAFORM`, else where `cargo xtask setup` installs it.
pub fn terraform_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNAI_TEST_TERRAFORM") {
        return PathBuf::from(path);
    }
    let installed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/terraform-1.0.3/terraform");
    assert!(
        installed.exists(),
        "Terraform 1.0.3 is not installed: run `cargo xtask setup` (or set RUNAI_TEST_TERRAFORM)"
    );
    installed
}

/// The outcome of one Terraform command.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Both streams, for assertions that do not care which one a message went to.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Both streams with every run of white space folded to one space, because Terraform wraps
    /// diagnostics at 78 columns wherever a line happens to break.
    pub fn flat_output(&self) -> String {
        self.output()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A Terraform working directory with its own state, CLI configuration and environment.
pub struct Workdir {
    directory: tempfile::TempDir,
    environment: Vec<(String, String)>,
    secrets: Vec<String>,
}

impl Workdir {
    /// A working directory whose provider talks to `emulator` with its default application.
    pub fn new(emulator: &RunningEmulator) -> Workdir {
        let defaults = EmulatorConfig::default();
        let mut workdir = Workdir::bare();
        workdir.set_env("RUNAI_BASE_URL", &emulator.base_url);
        workdir.set_env("RUNAI_CLIENT_ID", &defaults.client_id);
        workdir.set_env("RUNAI_CLIENT_SECRET", &defaults.client_secret);
        workdir.add_secret(&defaults.client_secret);
        workdir
    }

    /// A working directory with no `RUNAI_*` settings at all.
    pub fn bare() -> Workdir {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let provider = Path::new(env!("CARGO_BIN_EXE_terraform-provider-runai"));
        let cli_config = directory.path().join("terraformrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider.parent().expect("the binary has a folder").display()
            ),
        )
        .expect("the CLI configuration is written");
        let mut workdir = Workdir {
            directory,
            environment: Vec::new(),
            secrets: Vec::new(),
        };
        workdir.set_env("TF_CLI_CONFIG_FILE", &cli_config.display().to_string());
        workdir.set_env("TF_IN_AUTOMATION", "1");
        workdir.set_env("CHECKPOINT_DISABLE", "1");
        workdir.set_env("TF_INPUT", "0");
        // Users often have this set; the provider must keep backtraces out of its errors anyway.
        workdir.set_env("RUST_BACKTRACE", "1");
        workdir
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Sets an environment variable for every command run here.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.environment.retain(|(key, _)| key != name);
        self.environment.push((name.to_owned(), value.to_owned()));
    }

    /// Removes an environment variable from the commands run here.
    pub fn remove_env(&mut self, name: &str) {
        self.environment.retain(|(key, _)| key != name);
    }

    /// Registers a value that must never appear in any command's output.
    pub fn add_secret(&mut self, secret: &str) {
        self.secrets.push(secret.to_owned());
    }

    /// Writes `main.tf`: the `terraform` block followed by `body`.
    pub fn write_config(&self, body: &str) {
        std::fs::write(
            self.path().join("main.tf"),
            format!("{TERRAFORM_BLOCK}\n{body}"),
        )
        .expect("main.tf is written");
    }

    /// The command `run` would run, for tests that need to control the process themselves.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(terraform_binary());
        command.current_dir(self.path());
        match args.split_first() {
            Some((&"providers" | &"state", _)) | None => {
                command.args(args);
            }
            Some((subcommand, rest)) => {
                command.arg(subcommand).arg("-no-color").args(rest);
            }
        }
        // Variables of the developer's shell must not leak into a test.
        for (name, _) in std::env::vars() {
            if name.starts_with("RUNAI_") || name.starts_with("TF_") {
                command.env_remove(name);
            }
        }
        command.envs(self.environment.iter().map(|(key, value)| (key, value)));
        command
    }

    /// Runs `terraform <subcommand> -no-color <rest>` and checks that no secret and no backtrace is
    /// in its output. (Terraform stops reading flags at the first positional argument, so the flag
    /// goes right after the subcommand; `providers` and `state` have subcommands of their own and print
    /// no colour.)
    pub fn run(&self, args: &[&str]) -> Outcome {
        let output = self.command(args).output().expect("terraform runs");
        let outcome = Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        self.check_output(args, &outcome);
        outcome
    }

    fn check_output(&self, args: &[&str], outcome: &Outcome) {
        let text = outcome.output();
        // JSON renderings of state and plans carry every value, secrets included, by Terraform's
        // design (as the state file does); they are for machines, and a test reads them on purpose.
        let machine_readable = args.contains(&"-json");
        for secret in self.secrets.iter().filter(|_| !machine_readable) {
            assert!(
                !text.contains(secret.as_str()),
                "`terraform {}` printed a secret",
                args.join(" ")
            );
        }
        for marker in ["stack backtrace", "panicked at", "rust_begin_unwind"] {
            assert!(
                !text.contains(marker),
                "`terraform {}` printed a Rust backtrace or panic:\n{text}",
                args.join(" ")
            );
        }
    }

    /// Runs a command that must succeed.
    pub fn success(&self, args: &[&str]) -> Outcome {
        let outcome = self.run(args);
        assert_eq!(
            outcome.code,
            0,
            "`terraform {}` failed:\n{}",
            args.join(" "),
            outcome.output()
        );
        outcome
    }

    /// `terraform apply -auto-approve`, which must succeed.
    pub fn apply(&self) -> Outcome {
        self.success(&["apply", "-auto-approve", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 for no changes, 2 for changes.
    pub fn plan(&self) -> Outcome {
        self.run(&["plan", "-detailed-exitcode", "-input=false"])
    }

    /// Asserts that a plan finds nothing to do.
    pub fn assert_no_changes(&self) {
        let plan = self.plan();
        assert_eq!(plan.code, 0, "expected an empty plan:\n{}", plan.output());
        assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    }

    /// `terraform show -json` of the state.
    pub fn state(&self) -> serde_json::Value {
        let shown = self.success(&["show", "-json"]);
        serde_json::from_str(&shown.stdout).expect("show -json prints JSON")
    }

    /// The attributes of a resource in the state, by address (`runai_registry.example`).
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.state();
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|resource| resource["address"] == address)
            .map(|resource| resource["values"].clone())
            .unwrap_or_else(|| panic!("{address} is not in the state"))
    }

    /// The outputs after an apply, as JSON.
    pub fn outputs(&self) -> serde_json::Value {
        let shown = self.success(&["output", "-json"]);
        serde_json::from_str(&shown.stdout).expect("output -json prints JSON")
    }
}
