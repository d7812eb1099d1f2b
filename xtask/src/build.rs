//! Building the provider binary, which the demo, the docs, the release and the benchmarks all need.

use std::path::PathBuf;
use std::process::Command;

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
///
/// On Linux with glibc the release build is linked statically, as Go providers are: it then runs on
/// any Linux whatever its C library, and maps no shared library, which keeps its resident memory low
/// (BENCHMARKS.md). glibc 2.34 and later resolve host names from `/etc/hosts` and DNS without loading
/// anything, so a static provider still finds its control plane. The static build names its target
/// explicitly so that the flag reaches the provider and not the build scripts and proc macros.
pub fn provider(task: &str, profile: Profile) -> Result<PathBuf> {
    let mut command = process::cargo();
    command
        .arg("build")
        .args(["--package", PROVIDER_BINARY, "--bin", PROVIDER_BINARY])
        .current_dir(paths::workspace_root());
    let directory = match profile {
        Profile::Debug => {
            announce(&format!("{task}: building the provider (debug profile)"));
            paths::target_directory().join("debug")
        }
        Profile::Release => {
            command.arg("--release");
            match static_target()? {
                Some(target) => {
                    announce(&format!(
                        "{task}: building the provider (release profile, statically linked for {target})"
                    ));
                    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
                    flags.push_str(" -C target-feature=+crt-static");
                    command
                        .args(["--target", &target])
                        .env("RUSTFLAGS", flags.trim());
                    paths::target_directory().join(target).join("release")
                }
                None => {
                    announce(&format!("{task}: building the provider (release profile)"));
                    paths::target_directory().join("release")
                }
            }
        }
    };
    process::run(&mut command)?;
    let binary = directory.join(PROVIDER_BINARY);
    ensure!(
        binary.is_file(),
        "cargo build did not produce {}",
        binary.display()
    );
    Ok(binary)
}

/// The host's target triple when it is a glibc Linux, which can link statically; `None` elsewhere.
fn static_target() -> Result<Option<String>> {
    let version = process::output(Command::new("rustc").arg("-vV"))?;
    Ok(host_triple(&version).filter(|triple| triple.ends_with("-linux-gnu")))
}

/// The `host:` line of `rustc -vV`.
fn host_triple(version: &str) -> Option<String> {
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|triple| triple.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_triple_is_read_from_rustc() {
        let version = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        assert_eq!(
            host_triple(version).as_deref(),
            Some("x86_64-unknown-linux-gnu")
        );
        assert_eq!(host_triple("no host here"), None);
    }
}
