//! Terraform as the benchmark runs it: providers installed from a filesystem mirror (as `cargo xtask demo`
//! does, so every run goes through `terraform init`'s lock file and checksums like a user's would), one
//! working directory per configuration, and commands that are timed or sampled for memory.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use super::memory::{PeakSampler, SampledPeak};
use crate::process;

/// The only platform the benchmark runs on: the Go peers are Linux binaries and memory is read from
/// `/proc`.
pub const PLATFORM: &str = "linux_amd64";

/// Terraform's default parallelism, spelled out on every command so the figures say what they measure.
pub const PARALLELISM: &str = "-parallelism=10";

/// A provider to put into the filesystem mirror.
pub struct MirroredProvider<'a> {
    /// Its full source address, such as `registry.terraform.io/hashicorp/null`.
    pub address: &'a str,
    pub version: &'a str,
    pub binary: &'a Path,
    /// The binary's name in the mirror, such as `terraform-provider-null_v2.1.2_x4`.
    pub file_name: String,
}

/// Writes a filesystem mirror (Terraform's "unpacked" layout) holding `providers`, and a CLI configuration
/// that installs every provider from it and from nowhere else; returns the configuration's path.
pub fn write_mirror(directory: &Path, providers: &[MirroredProvider]) -> Result<PathBuf> {
    let mirror = directory.join("mirror");
    for provider in providers {
        let installed = mirror
            .join(provider.address)
            .join(provider.version)
            .join(PLATFORM)
            .join(&provider.file_name);
        let parent = installed.parent().expect("the mirror path has directories");
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        fs::copy(provider.binary, &installed).with_context(|| {
            format!(
                "copying {} to {}",
                provider.binary.display(),
                installed.display()
            )
        })?;
        fs::set_permissions(&installed, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", installed.display()))?;
    }
    let cli_config = directory.join("terraformrc");
    fs::write(&cli_config, cli_config_text(&mirror)?)
        .with_context(|| format!("writing {}", cli_config.display()))?;
    Ok(cli_config)
}

/// A CLI configuration with the mirror as the only installation source, so no run can reach a network.
fn cli_config_text(mirror: &Path) -> Result<String> {
    let mirror = mirror
        .to_str()
        .context("the benchmark directory's path is not valid UTF-8")?;
    // A JSON string is also a valid HCL string for every character a path can hold.
    Ok(format!(
        "# Written by `cargo xtask bench`: every provider comes from the local mirror.\n\
         provider_installation {{\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
        serde_json::to_string(mirror)?
    ))
}

/// The sensitive variable that every configuration with a password reads it from, as users write it.
/// Terraform tracks the sensitivity through every value derived from it, which costs time of its own, so
/// the floors that carry a password read it the same way.
const PASSWORD_VARIABLE: &str = r#"
variable "registry_password" {
  type      = string
  sensitive = true
}
"#;

/// The arguments of every benchmark registry, as HCL expressions: the one list the registries and the
/// floors that carry a registry's data are written from, so they cannot drift apart.
const REGISTRY_ARGUMENTS: [(&str, &str); 6] = [
    ("name", r#""bench-${count.index}""#),
    ("description", r#""Made by cargo xtask bench""#),
    ("scope", r#""tenant""#),
    ("url", r#""https://registry.example.com""#),
    ("user", r#""robot""#),
    ("password", "var.registry_password"),
];

/// What a benchmark registry's state holds besides its arguments, with values as long as the emulator's.
const REGISTRY_OTHER_ATTRIBUTES: [(&str, &str); 11] = [
    ("cluster_id", r#""""#),
    ("created_at", r#""2026-01-01T00:00:00.000Z""#),
    ("created_by", r#""runai-emulator""#),
    ("credential_kind", r#""password""#),
    ("department_id", r#""""#),
    ("kind", r#""registry""#),
    ("project_id", r#""""#),
    ("project_name", r#""""#),
    ("tenant_id", r#""1001""#),
    ("updated_at", r#""2026-01-01T00:00:00.000Z""#),
    ("updated_by", r#""runai-emulator""#),
];

/// The `terraform` block of every floor.
const NULL_PROVIDER_REQUIREMENT: &str = r#"terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
"#;

/// `arguments` as HCL lines indented by `indent`, the equals signs aligned as `terraform fmt` aligns
/// them.
fn hcl_arguments<N: AsRef<str>, V: AsRef<str>>(arguments: &[(N, V)], indent: &str) -> String {
    let width = arguments
        .iter()
        .map(|(name, _)| name.as_ref().len())
        .max()
        .unwrap_or(0);
    arguments
        .iter()
        .map(|(name, value)| format!("{indent}{:width$} = {}\n", name.as_ref(), value.as_ref()))
        .collect()
}

/// `count` registry assets, all valid and different; they point at a registry that is never contacted.
pub fn registries_configuration(count: usize) -> String {
    let count = count.to_string();
    let mut arguments = vec![("count", count.as_str())];
    arguments.extend(REGISTRY_ARGUMENTS);
    format!(
        r#"terraform {{
  required_providers {{
    runai = {{ source = "runai/runai" }}
  }}
}}

provider "runai" {{}}

resource "runai_registry" "bench" {{
{}}}
{PASSWORD_VARIABLE}"#,
        hcl_arguments(&arguments, "  ")
    )
}

/// `count` null resources: the same graph as [`registries_configuration`] with a provider that does no
/// work, which makes it Terraform's own floor.
pub fn null_resources_configuration(count: usize) -> String {
    format!(
        r#"{NULL_PROVIDER_REQUIREMENT}
resource "null_resource" "bench" {{
  count = {count}
}}
"#
    )
}

/// `count` null resources with `triggers`, which read the password variable.
fn null_resources_with_triggers(count: usize, triggers: &[(&str, &str)]) -> String {
    format!(
        r#"{NULL_PROVIDER_REQUIREMENT}
resource "null_resource" "bench" {{
  count = {count}
  triggers = {{
{}  }}
}}
{PASSWORD_VARIABLE}"#,
        hcl_arguments(triggers, "    ")
    )
}

/// `count` null resources that carry, in `triggers`, exactly the arguments of the registries of
/// [`registries_configuration`]: what Terraform costs for the same configuration when the provider does
/// no work and keeps nothing but what the user wrote. No provider of a registry can keep less.
pub fn same_configuration_null_configuration(count: usize) -> String {
    null_resources_with_triggers(count, &REGISTRY_ARGUMENTS)
}

/// `count` null resources that carry, in `triggers`, the attribute values of one of the registries of
/// [`registries_configuration`], so that each resource's state is as large as a registry's.
pub fn same_state_null_configuration(count: usize) -> String {
    let mut triggers: Vec<(&str, &str)> = REGISTRY_ARGUMENTS
        .iter()
        .chain(&REGISTRY_OTHER_ATTRIBUTES)
        .copied()
        .collect();
    triggers.sort_unstable();
    null_resources_with_triggers(count, &triggers)
}

/// Runs the Terraform CLI with the benchmark's CLI configuration and environment.
pub struct Terraform {
    binary: PathBuf,
    /// Holds the client secret and passwords, so it is never printed.
    environment: Vec<(String, OsString)>,
}

impl Terraform {
    /// A Terraform that installs from the CLI configuration `cli_config` and keeps its temporary files
    /// (such as the Go plugins' sockets) in `temporary`.
    pub fn new(binary: &Path, cli_config: &Path, temporary: &Path) -> Terraform {
        let mut terraform = Terraform {
            binary: binary.to_path_buf(),
            environment: Vec::new(),
        };
        terraform.set_env("TF_CLI_CONFIG_FILE", cli_config);
        terraform.set_env("TF_IN_AUTOMATION", "1");
        terraform.set_env("TF_INPUT", "0");
        terraform.set_env("CHECKPOINT_DISABLE", "1");
        terraform.set_env("TMPDIR", temporary);
        terraform
    }

    /// Sets an environment variable for every command.
    pub fn set_env(&mut self, name: &str, value: impl Into<OsString>) {
        self.environment.retain(|(key, _)| key != name);
        self.environment.push((name.to_owned(), value.into()));
    }

    /// A `terraform` command in `directory`. The user's `TF_*` and `RUNAI_*` variables are removed: a
    /// plugin cache, a log level or a real Run:ai URL would change what is measured.
    pub fn command(&self, directory: &Path, arguments: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(arguments)
            .current_dir(directory)
            .stdin(Stdio::null());
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("TF_") || name_text.starts_with("RUNAI_") {
                command.env_remove(&name);
            }
        }
        command.envs(self.environment.iter().map(|(name, value)| (name, value)));
        command
    }

    /// Writes `configuration` as `main.tf` of a new working directory and runs `terraform init` there.
    pub fn prepare(&self, directory: &Path, configuration: &str) -> Result<()> {
        if directory.exists() {
            fs::remove_dir_all(directory)
                .with_context(|| format!("removing {}", directory.display()))?;
        }
        fs::create_dir_all(directory)
            .with_context(|| format!("creating {}", directory.display()))?;
        fs::write(directory.join("main.tf"), configuration)
            .with_context(|| format!("writing {}/main.tf", directory.display()))?;
        process::output(&mut self.command(directory, &["init", "-input=false", "-no-color"]))?;
        Ok(())
    }

    /// Runs a command that must succeed and returns its standard output.
    pub fn run(&self, directory: &Path, arguments: &[&str]) -> Result<String> {
        process::output(&mut self.command(directory, arguments))
    }

    /// Runs a command that must succeed and print `expected`, and returns how long it took.
    pub fn timed(&self, directory: &Path, arguments: &[&str], expected: &str) -> Result<Duration> {
        let mut command = self.command(directory, arguments);
        let started = Instant::now();
        let output = process::output(&mut command)?;
        let elapsed = started.elapsed();
        check_expected(&command, &output, expected)?;
        Ok(elapsed)
    }

    /// Like [`Terraform::timed`], while sampling the memory of the providers Terraform starts.
    pub fn sampled(
        &self,
        directory: &Path,
        arguments: &[&str],
        expected: &str,
    ) -> Result<(Duration, SampledPeak)> {
        let mut command = self.command(directory, arguments);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        eprintln!(
            "$ {} (sampling provider memory)",
            process::describe(&command)
        );
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("could not start `{}`", process::describe(&command)))?;
        let sampler = PeakSampler::start(child.id());
        let output = child.wait_with_output();
        let elapsed = started.elapsed();
        let peak = sampler.finish();
        let output =
            output.with_context(|| format!("waiting for `{}`", process::describe(&command)))?;
        if !output.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                process::describe(&command),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        check_expected(&command, &String::from_utf8_lossy(&output.stdout), expected)?;
        ensure!(
            peak.processes > 0,
            "no provider process was seen during `{}`",
            process::describe(&command)
        );
        Ok((elapsed, peak))
    }
}

/// Fails unless a command's output holds the summary line that proves it did the expected work.
fn check_expected(command: &Command, output: &str, expected: &str) -> Result<()> {
    ensure!(
        output.contains(expected),
        "`{}` did not print {expected:?}; its output ends with:\n{}",
        process::describe(command),
        last_lines(output, 15)
    );
    Ok(())
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// The summary line of `terraform plan` for `count` new resources.
pub fn plan_summary(count: usize) -> String {
    format!("Plan: {count} to add, 0 to change, 0 to destroy.")
}

/// The summary line of `terraform apply` for `count` new resources.
pub fn apply_summary(count: usize) -> String {
    format!("Apply complete! Resources: {count} added, 0 changed, 0 destroyed.")
}

/// The summary line of `terraform destroy` for `count` resources.
pub fn destroy_summary(count: usize) -> String {
    format!("Destroy complete! Resources: {count} destroyed.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_config_quotes_the_mirror_path() {
        let text = cli_config_text(Path::new("/work/a \"b\"/mirror")).unwrap();
        assert!(text.contains(r#"path = "/work/a \"b\"/mirror""#), "{text}");
        assert!(!text.contains("direct"), "{text}");
    }

    #[test]
    fn write_mirror_uses_the_unpacked_layout() {
        let scratch = tempfile::tempdir().unwrap();
        let binary = scratch.path().join("provider");
        fs::write(&binary, b"binary").unwrap();
        let cli_config = write_mirror(
            scratch.path(),
            &[MirroredProvider {
                address: "registry.terraform.io/hashicorp/null",
                version: "2.1.2",
                binary: &binary,
                file_name: "terraform-provider-null_v2.1.2_x4".into(),
            }],
        )
        .unwrap();
        let installed = scratch.path().join(
            "mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4",
        );
        assert_eq!(fs::read(&installed).unwrap(), b"binary");
        assert_eq!(
            fs::metadata(&installed).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(fs::read_to_string(cli_config)
            .unwrap()
            .contains("filesystem_mirror"));
    }

    #[test]
    fn the_configurations_declare_the_requested_count() {
        assert!(registries_configuration(500).contains("count       = 500"));
        assert!(null_resources_configuration(100).contains("count = 100"));
        assert!(same_state_null_configuration(7).contains("count = 7"));
        assert!(same_configuration_null_configuration(9).contains("count = 9"));
    }

    /// The `name = value` lines of the block that starts with `header`, spaces collapsed, `count` left out.
    fn arguments(configuration: &str, header: &str) -> Vec<String> {
        let block = &configuration[configuration.find(header).expect("the block exists")..];
        let block = &block[..block.find("\n}").expect("the block ends")];
        block
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|line| {
                line.contains(" = ") && !line.ends_with('{') && !line.starts_with("count =")
            })
            .collect()
    }

    #[test]
    fn the_same_configuration_floor_carries_exactly_the_registry_arguments() {
        let registry = arguments(&registries_configuration(2), "resource \"runai_registry\"");
        let floor = arguments(
            &same_configuration_null_configuration(2),
            "resource \"null_resource\"",
        );
        assert_eq!(registry.len(), 6, "{registry:?}");
        assert_eq!(registry, floor);
        assert!(registry.contains(&"password = var.registry_password".to_owned()));
    }

    #[test]
    fn every_configuration_with_a_password_reads_it_from_the_sensitive_variable() {
        for configuration in [
            registries_configuration(1),
            same_configuration_null_configuration(1),
            same_state_null_configuration(1),
        ] {
            assert!(configuration.contains("= var.registry_password"));
            assert!(configuration.contains("sensitive = true"));
            assert!(!configuration.contains("bench-password"));
        }
    }

    #[test]
    fn check_expected_reports_the_end_of_the_output() {
        let command = Command::new("terraform");
        assert!(check_expected(
            &command,
            "x\nApply complete! Resources: 1 added",
            "Apply complete!"
        )
        .is_ok());
        let error =
            check_expected(&command, "line one\nError: boom", &apply_summary(3)).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("3 added"), "{message}");
        assert!(message.contains("Error: boom"), "{message}");
    }
}
