//! Where things live: the workspace root, the target directory, the downloaded tools and the demo's files.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The Terraform release the provider is tested against.
pub const TERRAFORM_VERSION: &str = "1.0.3";

/// Overrides the directory that holds downloaded tools, so the download path can be tried in a scratch
/// directory without deleting the real one.
pub const TOOLS_DIRECTORY_VARIABLE: &str = "RUNAI_TOOLS_DIR";

/// The workspace root: the parent of this crate's directory, as Cargo saw it at build time.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the xtask crate lives inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` (relative to the current directory, as Cargo
/// reads it) so the demo finds the provider binary where `cargo build` put it.
pub fn target_directory() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(directory) if !directory.is_empty() => {
            std::path::absolute(&directory).unwrap_or_else(|_| PathBuf::from(directory))
        }
        _ => workspace_root().join("target"),
    }
}

/// The directory for downloaded tools: `RUNAI_TOOLS_DIR` if set, otherwise `target/tools`.
pub fn tools_directory() -> PathBuf {
    match env::var_os(TOOLS_DIRECTORY_VARIABLE) {
        // Joining keeps an absolute override as it is and anchors a relative one at the workspace root,
        // so the result does not depend on the directory xtask was started from.
        Some(directory) if !directory.is_empty() => workspace_root().join(directory),
        _ => target_directory().join("tools"),
    }
}

/// Where `cargo xtask setup` puts the Terraform binary.
pub fn terraform_binary(tools_directory: &Path) -> PathBuf {
    tools_directory
        .join(format!("terraform-{TERRAFORM_VERSION}"))
        .join("terraform")
}

/// The scratch area of `cargo xtask demo`; it is recreated on every run.
pub fn demo_directory() -> PathBuf {
    target_directory().join("demo")
}

/// The provider's version, read from the root package's `Cargo.toml` so the demo's mirror layout follows
/// every version bump without an edit here.
pub fn provider_version() -> Result<String> {
    let manifest_path = workspace_root().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    package_version(&text)
        .with_context(|| format!("reading package.version in {}", manifest_path.display()))
}

/// Extracts `package.version` from the text of a `Cargo.toml`.
fn package_version(manifest: &str) -> Result<String> {
    let table: toml::Table = toml::from_str(manifest).context("parsing TOML")?;
    table
        .get("package")
        .and_then(|package| package.get("version"))
        .and_then(|version| version.as_str())
        .map(str::to_owned)
        .context("there is no package.version string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_version_reads_the_root_package() {
        let manifest =
            "[workspace]\nmembers = [\".\"]\n\n[package]\nname = \"p\"\nversion = \"1.2.3\"\n";
        assert_eq!(package_version(manifest).unwrap(), "1.2.3");
    }

    #[test]
    fn package_version_rejects_an_inherited_version() {
        // `version.workspace = true` is a table, not a string: failing loudly beats a wrong mirror path.
        let manifest = "[package]\nname = \"p\"\nversion.workspace = true\n";
        assert!(package_version(manifest).is_err());
    }

    #[test]
    fn the_real_provider_manifest_has_a_version() {
        let version = provider_version().unwrap();
        assert!(
            version.split('.').count() == 3,
            "unexpected version {version}"
        );
    }

    #[test]
    fn terraform_lives_in_a_versioned_directory() {
        let path = terraform_binary(Path::new("/tools"));
        assert_eq!(path, Path::new("/tools/terraform-1.0.3/terraform"));
    }
}
