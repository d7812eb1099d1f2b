//! Terraform with the freshly built provider wired in through `dev_overrides`, for the commands that only
//! need the provider's schema: `cargo xtask docs` reads it and `cargo xtask examples-check` validates the
//! examples against it.
//!
//! With `dev_overrides` Terraform runs `validate` and `providers schema` without `terraform init` (which
//! would ask a registry this machine cannot reach), so nothing is installed and no network is needed.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::build::{self, Profile};
use crate::process;

/// The provider's short source address, as the examples and `required_providers` blocks spell it.
pub const PROVIDER_SOURCE: &str = "runai/runai";

/// The provider's full source address, the key of its schema in `terraform providers schema -json`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/runai/runai";

/// A `terraform` block that selects this provider, for configurations that do not declare it.
pub const REQUIRED_PROVIDERS_BLOCK: &str = r#"# Written by cargo xtask: selects the runai provider for this check.
terraform {
  required_providers {
    runai = {
      source = "runai/runai"
    }
  }
}
"#;

/// Builds the provider with the debug profile and returns the directory that holds its binary.
pub fn build_debug_provider() -> Result<PathBuf> {
    let binary = build::provider("terraform", Profile::Debug)?;
    let directory = binary
        .parent()
        .expect("the binary lives in a directory")
        .to_path_buf();
    Ok(directory)
}

/// Runs Terraform with a private CLI configuration that overrides this provider with a local build.
pub struct DevTerraform {
    terraform: PathBuf,
    /// Holds the CLI configuration; removed when this value drops.
    scratch: tempfile::TempDir,
}

impl DevTerraform {
    /// Prepares a CLI configuration whose `dev_overrides` take the provider from `provider_directory`.
    pub fn new(terraform: &Path, provider_directory: &Path) -> Result<DevTerraform> {
        let scratch = tempfile::Builder::new()
            .prefix("xtask-terraform-")
            .tempdir()
            .context("creating a temporary directory")?;
        let cli_config = scratch.path().join("terraformrc");
        std::fs::write(&cli_config, cli_config_text(provider_directory)?)
            .with_context(|| format!("writing {}", cli_config.display()))?;
        Ok(DevTerraform {
            terraform: terraform.to_path_buf(),
            scratch,
        })
    }

    /// A new, empty working directory inside the scratch area.
    pub fn work_directory(&self, name: &str) -> Result<PathBuf> {
        let directory = self.scratch.path().join(name);
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("creating {}", directory.display()))?;
        Ok(directory)
    }

    /// A `terraform` command that runs in `work_directory` with the override configuration.
    pub fn command(&self, work_directory: &Path, arguments: &[&str]) -> Command {
        let mut command = Command::new(&self.terraform);
        command
            .args(arguments)
            .current_dir(work_directory)
            .stdin(Stdio::null());
        clean_environment(&mut command);
        command
            .env(
                "TF_CLI_CONFIG_FILE",
                self.scratch.path().join("terraformrc"),
            )
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        command
    }

    /// The provider's schemas, as `terraform providers schema -json` prints them.
    pub fn provider_schema_json(&self) -> Result<String> {
        let work = self.work_directory("schema")?;
        std::fs::write(work.join("main.tf"), REQUIRED_PROVIDERS_BLOCK)
            .with_context(|| format!("writing {}", work.join("main.tf").display()))?;
        process::output(&mut self.command(&work, &["providers", "schema", "-json"]))
    }
}

/// Removes the caller's `RUNAI_*` and `TF_*` variables, so a developer's shell (a plugin cache, a log
/// level, a real control plane) cannot change what a check sees.
pub fn clean_environment(command: &mut Command) {
    remove_terraform_variables(command, env::vars_os().map(|(name, _)| name));
}

/// Removes, of the variables `names`, those that start with `RUNAI_` or `TF_`.
fn remove_terraform_variables(command: &mut Command, names: impl Iterator<Item = OsString>) {
    for name in names {
        let text = name.to_string_lossy();
        if text.starts_with("RUNAI_") || text.starts_with("TF_") {
            command.env_remove(&name);
        }
    }
}

/// The CLI configuration: this provider from `provider_directory`, everything else as usual.
fn cli_config_text(provider_directory: &Path) -> Result<String> {
    let directory = provider_directory
        .to_str()
        .context("the provider's build directory is not valid UTF-8")?;
    Ok(format!(
        "# Written by cargo xtask: use the provider that cargo just built.\n\
         provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = {}\n  }}\n  direct {{}}\n}}\n",
        hcl_string(directory)
    ))
}

/// Quotes text as a string literal of HCL 1, the syntax of Terraform's CLI configuration, which has no
/// templates: only the quote, the backslash and control characters need escapes.
pub fn hcl_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_config_overrides_only_this_provider() {
        let text = cli_config_text(Path::new("/work/target/debug")).unwrap();
        assert!(
            text.contains("dev_overrides {\n    \"runai/runai\" = \"/work/target/debug\"\n  }"),
            "{text}"
        );
        assert!(text.contains("direct {}"), "{text}");
    }

    #[test]
    fn hcl_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(hcl_string("/a/b"), r#""/a/b""#);
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("a\nb\tc"), r#""a\nb\tc""#);
    }

    #[test]
    fn only_terraform_and_runai_variables_are_removed() {
        let mut command = Command::new("terraform");
        let names = ["TF_LOG", "RUNAI_TOKEN", "HOME", "PATH_TF_"].map(OsString::from);
        remove_terraform_variables(&mut command, names.into_iter());
        let removed: Vec<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(removed, ["RUNAI_TOKEN", "TF_LOG"]);
    }

    #[test]
    fn commands_use_the_override_configuration() {
        let scratch = tempfile::tempdir().unwrap();
        let terraform = DevTerraform::new(Path::new("terraform"), scratch.path()).unwrap();
        let command = terraform.command(scratch.path(), &["validate"]);
        let config_path = command
            .get_envs()
            .find(|(name, _)| *name == "TF_CLI_CONFIG_FILE")
            .and_then(|(_, value)| value)
            .expect("TF_CLI_CONFIG_FILE is set");
        let config = std::fs::read_to_string(config_path).unwrap();
        assert!(config.contains(&hcl_string(scratch.path().to_str().unwrap())));
        assert_eq!(command.get_current_dir(), Some(scratch.path()));
    }
}
