//! `cargo xtask release-check`: installs the artifacts of `cargo xtask dist` the way a user's Terraform does
//! and uses them against the emulator.
//!
//! The release ZIP goes into a filesystem mirror in Terraform's packed layout
//! (`<mirror>/registry.terraform.io/runai/runai/terraform-provider-runai_<version>_<os>_<arch>.zip`), and a
//! private CLI configuration makes that mirror the only source of the provider; there are no
//! `dev_overrides`.
//!
//! Terraform (1.0.3 as much as 1.11) records only an `h1:` hash for a package it installs from a
//! filesystem mirror; `zh:` hashes come from a registry's signed SHA256SUMS. A user whose lock file came
//! from the Registry therefore has `zh:` hashes that `terraform init` must match against the ZIP. The check
//! does exactly that: it starts from a lock file that holds only `zh:<SHA-256 of the ZIP in SHA256SUMS>`,
//! so `init` succeeds only if Terraform computes the same hash, and then requires the resulting lock file
//! to keep that `zh:` hash next to the `h1:` one Terraform adds. A first `init` from a lock file with a
//! wrong hash must fail, which shows that Terraform really compares them. An `apply`, an empty second
//! `plan` and a `destroy` against the emulator then prove that the packaged binary works.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use runai_emulator::{spawn_in_background, EmulatorConfig, RunningEmulator};

use crate::dev_terraform::{clean_environment, hcl_string, PROVIDER_ADDRESS};
use crate::dist::{self, Artifacts};
use crate::process::{self, announce};
use crate::setup;

/// The name of the registry asset the check creates.
const REGISTRY_NAME: &str = "release-check";

/// A registry password for the emulator, which stores it without contacting any registry. It is still
/// passed through the environment, never an argument, as a real one would be.
const REGISTRY_PASSWORD: &str = "release-check-password";

/// Builds the release artifacts, installs them from a filesystem mirror and runs a full lifecycle.
pub fn release_check() -> Result<()> {
    let tools = setup::setup()?;
    let artifacts = dist::dist()?;

    let scratch = tempfile::Builder::new()
        .prefix("xtask-release-check-")
        .tempdir()
        .context("creating a temporary directory")?;
    let cli_config = install_into_mirror(&artifacts, scratch.path())?;
    let sums = fs::read_to_string(&artifacts.sums)
        .with_context(|| format!("reading {}", artifacts.sums.display()))?;
    let zip_name = file_name(&artifacts.zip)?;
    let expected = dist::sum_for(&sums, zip_name)
        .with_context(|| format!("SHA256SUMS does not list {zip_name}"))?
        .to_owned();

    let refused = ReleaseTerraform {
        binary: tools.terraform.clone(),
        work: prepare_work_directory(
            &scratch.path().join("work-wrong-hash"),
            &artifacts.version,
            WRONG_HASH,
        )?,
        cli_config: cli_config.clone(),
        environment: Vec::new(),
    };
    announce("release-check: terraform init must refuse a lock file with another zh: hash");
    check_init_refuses_wrong_hash(&refused)?;

    announce("release-check: starting the Run:ai emulator");
    let emulator_config = EmulatorConfig::default();
    let client_id = emulator_config.client_id.clone();
    let client_secret = emulator_config.client_secret.clone();
    let emulator = spawn_in_background(emulator_config).context("starting the emulator")?;
    let terraform = ReleaseTerraform {
        binary: tools.terraform,
        work: prepare_work_directory(&scratch.path().join("work"), &artifacts.version, &expected)?,
        cli_config,
        environment: vec![
            ("RUNAI_BASE_URL", emulator.base_url.clone()),
            ("RUNAI_CLIENT_ID", client_id),
            ("RUNAI_CLIENT_SECRET", client_secret),
            ("TF_VAR_registry_password", REGISTRY_PASSWORD.to_owned()),
        ],
    };

    announce(&format!(
        "release-check: terraform init from a lock file that holds only zh:{expected}, the SHA-256 of \
         {zip_name} in SHA256SUMS"
    ));
    terraform.run(&["init", "-input=false", "-no-color"])?;
    let lock_path = terraform.work.join(".terraform.lock.hcl");
    let lock = fs::read_to_string(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    check_lock(&lock, &artifacts.version, &expected)?;
    announce("release-check: .terraform.lock.hcl keeps that zh: hash and adds the h1: hash Terraform computed");
    let version_output = process::output(&mut terraform.command(&["version"]))?;
    let installed = format!("provider {PROVIDER_ADDRESS} v{}", artifacts.version);
    ensure!(
        version_output.contains(&installed),
        "`terraform version` does not list {installed}:\n{version_output}"
    );

    run_lifecycle(&terraform, &emulator)?;
    drop(emulator);

    println!(
        "release-check: terraform init installed {zip_name} from a filesystem mirror against the hash in \
         SHA256SUMS (and refused another hash), and the released provider {} ({}) created, planned and \
         destroyed a registry",
        artifacts.version, artifacts.platform
    );
    Ok(())
}

/// A SHA-256 that no release ZIP has.
const WRONG_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Copies the release ZIP into a filesystem mirror under `scratch` and writes a CLI configuration that
/// uses it; returns the configuration's path.
fn install_into_mirror(artifacts: &Artifacts, scratch: &Path) -> Result<PathBuf> {
    let mirror = scratch.join("mirror");
    let packed = mirror.join(packed_mirror_path(artifacts));
    announce(&format!(
        "release-check: placing the release ZIP in a filesystem mirror at {}",
        packed.display()
    ));
    let parent = packed.parent().expect("the mirror path has directories");
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    fs::copy(&artifacts.zip, &packed).with_context(|| {
        format!(
            "copying {} to {}",
            artifacts.zip.display(),
            packed.display()
        )
    })?;
    let cli_config = scratch.join("terraformrc");
    fs::write(&cli_config, cli_config_text(&mirror)?)
        .with_context(|| format!("writing {}", cli_config.display()))?;
    Ok(cli_config)
}

/// Without this, a Terraform that ignored `zh:` hashes would let the main check pass vacuously.
fn check_init_refuses_wrong_hash(terraform: &ReleaseTerraform) -> Result<()> {
    match process::output(&mut terraform.command(&["init", "-input=false", "-no-color"])) {
        Ok(_) => bail!(
            "terraform init accepted the release ZIP against the lock file hash zh:{WRONG_HASH}, so it \
             does not check zh: hashes and the release check would prove nothing"
        ),
        Err(error) => {
            let message = format!("{error:#}");
            ensure!(
                message.contains("doesn't match any of the checksums"),
                "terraform init failed for another reason than the hash: {message}"
            );
            Ok(())
        }
    }
}

/// `apply`, an empty second `plan` and `destroy`, each checked against the emulator's contents.
fn run_lifecycle(terraform: &ReleaseTerraform, emulator: &RunningEmulator) -> Result<()> {
    terraform.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    let names: Vec<String> = emulator
        .emulator
        .registries()
        .iter()
        .filter_map(|registry| registry["meta"]["name"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        names == [REGISTRY_NAME],
        "after apply the emulator holds the registries {names:?}, not just {REGISTRY_NAME:?}"
    );
    let status = process::run_for_status(&mut terraform.command(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
    ]))?;
    match status.code() {
        Some(0) => {}
        Some(2) => bail!(
            "the plan after apply wants changes: the released provider does not round-trip its state"
        ),
        _ => bail!("`terraform plan -detailed-exitcode` failed ({status})"),
    }
    terraform.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])?;
    ensure!(
        emulator.emulator.registries().is_empty(),
        "the emulator still holds registries after destroy"
    );
    Ok(())
}

/// Runs Terraform in one of the check's working directories with the mirror's CLI configuration.
struct ReleaseTerraform {
    binary: PathBuf,
    work: PathBuf,
    cli_config: PathBuf,
    /// Holds the emulator's client secret, so it is never printed.
    environment: Vec<(&'static str, String)>,
}

impl ReleaseTerraform {
    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(arguments)
            .current_dir(&self.work)
            .stdin(Stdio::null());
        clean_environment(&mut command);
        command
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .envs(self.environment.iter().map(|(name, value)| (name, value)));
        command
    }

    fn run(&self, arguments: &[&str]) -> Result<()> {
        process::run(&mut self.command(arguments))
    }
}

/// Creates a working directory with the check's configuration and a lock file that pins `version` of the
/// provider to the single hash `zh:<zip_sha256>`, as a lock file from the Registry would.
fn prepare_work_directory(directory: &Path, version: &str, zip_sha256: &str) -> Result<PathBuf> {
    fs::create_dir_all(directory).with_context(|| format!("creating {}", directory.display()))?;
    fs::write(directory.join("main.tf"), configuration(version))
        .with_context(|| format!("writing {}", directory.join("main.tf").display()))?;
    fs::write(
        directory.join(".terraform.lock.hcl"),
        lock_with_zip_hash(version, zip_sha256),
    )
    .with_context(|| {
        format!(
            "writing {}",
            directory.join(".terraform.lock.hcl").display()
        )
    })?;
    Ok(directory.to_path_buf())
}

/// A `.terraform.lock.hcl` that trusts exactly one ZIP of the provider, by its SHA-256.
fn lock_with_zip_hash(version: &str, zip_sha256: &str) -> String {
    format!(
        r#"# Written by `cargo xtask release-check`: the hash a lock file from the Registry would hold.
provider "{PROVIDER_ADDRESS}" {{
  version     = "{version}"
  constraints = "{version}"
  hashes = [
    "zh:{zip_sha256}",
  ]
}}
"#
    )
}

fn file_name(path: &Path) -> Result<&str> {
    path.file_name()
        .and_then(|name| name.to_str())
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))
}

/// The ZIP's place in a filesystem mirror, in Terraform's packed layout.
fn packed_mirror_path(artifacts: &Artifacts) -> PathBuf {
    Path::new(PROVIDER_ADDRESS)
        .join(dist::ArtifactNames::new(&artifacts.version, &artifacts.platform).zip)
}

/// A CLI configuration that takes this provider from the mirror only, and nothing else from anywhere.
fn cli_config_text(mirror: &Path) -> Result<String> {
    let mirror = mirror
        .to_str()
        .context("the mirror's path is not valid UTF-8")?;
    Ok(format!(
        r#"# Written by `cargo xtask release-check`: the provider comes from the mirror, as a user's would.
provider_installation {{
  filesystem_mirror {{
    path    = {path}
    include = ["{PROVIDER_ADDRESS}"]
  }}
  direct {{
    exclude = ["{PROVIDER_ADDRESS}"]
  }}
}}
"#,
        path = hcl_string(mirror)
    ))
}

/// The configuration the check applies: the exact released version and one registry asset.
fn configuration(version: &str) -> String {
    format!(
        r#"# Written by `cargo xtask release-check`.
terraform {{
  required_providers {{
    runai = {{
      source  = "runai/runai"
      version = "= {version}"
    }}
  }}
}}

provider "runai" {{}}

variable "registry_password" {{
  type      = string
  sensitive = true
}}

resource "runai_registry" "release_check" {{
  name     = "{REGISTRY_NAME}"
  scope    = "tenant"
  url      = "https://registry.example.com"
  user     = "release-check"
  password = var.registry_password
}}
"#
    )
}

/// Checks that the lock file pins `version` of this provider and lists `zh:<expected_sha256>`.
fn check_lock(lock: &str, version: &str, expected_sha256: &str) -> Result<()> {
    let block = provider_lock_block(lock).with_context(|| {
        format!(".terraform.lock.hcl has no block for {PROVIDER_ADDRESS}:\n{lock}")
    })?;
    let locked_version = block
        .lines()
        .find_map(|line| line.trim().strip_prefix("version"))
        .and_then(|rest| quoted_strings(rest).into_iter().next());
    ensure!(
        locked_version == Some(version),
        "the lock file pins version {locked_version:?}, not {version:?}"
    );
    let hashes: Vec<&str> = quoted_strings(block)
        .into_iter()
        .filter(|text| text.starts_with("h1:") || text.starts_with("zh:"))
        .collect();
    let wanted = format!("zh:{expected_sha256}");
    ensure!(
        hashes.contains(&wanted.as_str()),
        "the lock file's hashes {hashes:?} do not include {wanted}, the SHA-256 of the release ZIP"
    );
    // The h1: hash is the one Terraform computes itself from the unpacked package; without it the
    // package was not installed.
    ensure!(
        hashes.iter().any(|hash| hash.starts_with("h1:")),
        "the lock file's hashes {hashes:?} have no h1: hash, so Terraform installed nothing"
    );
    Ok(())
}

/// The text of the lock file's `provider "<address>" { … }` block, which Terraform ends with a `}` line.
fn provider_lock_block(lock: &str) -> Option<&str> {
    let header = format!("provider \"{PROVIDER_ADDRESS}\" {{");
    let start = lock.find(&header)? + header.len();
    let rest = &lock[start..];
    let end = rest.find("\n}")?;
    Some(&rest[..end])
}

/// The contents of the double-quoted strings in a piece of HCL that has no escapes, as lock files have.
fn quoted_strings(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f6c2b4e2d8a1f0e3c5b7a9d8e6f4a2b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f";

    fn lock(version: &str, zh: &str) -> String {
        format!(
            r#"# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/random" {{
  version = "3.1.0"
  hashes = [
    "zh:{SHA}",
  ]
}}

provider "registry.terraform.io/runai/runai" {{
  version     = "{version}"
  constraints = "0.1.0"
  hashes = [
    "h1:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=",
    "zh:{zh}",
  ]
}}
"#
        )
    }

    #[test]
    fn a_lock_with_the_release_hash_passes() {
        check_lock(&lock("0.1.0", SHA), "0.1.0", SHA).unwrap();
    }

    #[test]
    fn a_lock_with_another_hash_or_version_fails() {
        let other = "0".repeat(64);
        let error = format!(
            "{:#}",
            check_lock(&lock("0.1.0", &other), "0.1.0", SHA).unwrap_err()
        );
        assert!(error.contains(&format!("zh:{SHA}")), "{error}");
        // Another provider's block with the right hash does not count.
        assert!(check_lock(&lock("0.2.0", SHA), "0.1.0", SHA).is_err());
        assert!(check_lock("", "0.1.0", SHA).is_err());
    }

    #[test]
    fn the_starting_lock_pins_the_zip_hash_but_does_not_pass_before_an_install() {
        let lock = lock_with_zip_hash("0.1.0", SHA);
        let block = provider_lock_block(&lock).unwrap();
        assert!(block.contains("version     = \"0.1.0\""), "{block}");
        assert_eq!(
            quoted_strings(block).last(),
            Some(&format!("zh:{SHA}").as_str())
        );
        // Terraform adds the h1: hash when it installs the package; until then the check fails.
        let error = format!("{:#}", check_lock(&lock, "0.1.0", SHA).unwrap_err());
        assert!(error.contains("no h1: hash"), "{error}");
    }

    #[test]
    fn the_mirror_uses_the_packed_layout() {
        let artifacts = Artifacts {
            version: "0.1.0".into(),
            platform: "linux_amd64".into(),
            zip: PathBuf::from("/dist/terraform-provider-runai_0.1.0_linux_amd64.zip"),
            sums: PathBuf::from("/dist/terraform-provider-runai_0.1.0_SHA256SUMS"),
        };
        assert_eq!(
            packed_mirror_path(&artifacts),
            Path::new(
                "registry.terraform.io/runai/runai/terraform-provider-runai_0.1.0_linux_amd64.zip"
            )
        );
    }

    #[test]
    fn the_cli_config_uses_only_the_mirror_for_this_provider() {
        let text = cli_config_text(Path::new("/scratch/mirror")).unwrap();
        assert!(text.contains("path    = \"/scratch/mirror\""), "{text}");
        assert!(
            text.contains("exclude = [\"registry.terraform.io/runai/runai\"]"),
            "{text}"
        );
        assert!(!text.contains("dev_overrides"), "{text}");
    }

    #[test]
    fn the_configuration_pins_the_released_version_and_keeps_the_password_out() {
        let text = configuration("1.2.3");
        assert!(text.contains("version = \"= 1.2.3\""), "{text}");
        assert!(!text.contains(REGISTRY_PASSWORD), "{text}");
    }
}
