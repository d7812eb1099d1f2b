//! Building the provider binary, which the demo, the docs, the release and the benchmarks all need.

use std::path::PathBuf;

use anyhow::{ensure, Result};

use crate::paths;
use crate::process::{self, announce};

/// The provider's package and binary name.
pub const PROVIDER_BINARY: &str = "terraform-provider-runai";

/// The Cargo profile to build with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Quick to build; what the tests and the demo use.
    Debug,
    /// What users get: optimised for size and start-up (see the root Cargo.toml).
    Release,
}

/// Builds the provider binary with `profile` and returns its path. `task` names the command that
/// asked, for the progress line.
pub fn provider(task: &str, profile: Profile) -> Result<PathBuf> {
    let (name, directory) = match profile {
        Profile::Debug => ("debug", "debug"),
        Profile::Release => ("release", "release"),
    };
    announce(&format!("{task}: building the provider ({name} profile)"));
    let mut command = process::cargo();
    command.arg("build");
    if profile == Profile::Release {
        command.arg("--release");
    }
    command
        .args(["--package", PROVIDER_BINARY, "--bin", PROVIDER_BINARY])
        .current_dir(paths::workspace_root());
    process::run(&mut command)?;
    let binary = paths::target_directory()
        .join(directory)
        .join(PROVIDER_BINARY);
    ensure!(
        binary.is_file(),
        "cargo build did not produce {}",
        binary.display()
    );
    Ok(binary)
}
