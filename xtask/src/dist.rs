//! `cargo xtask dist`: builds the release artifacts in `target/dist/`, in the layout the Terraform Registry
//! and `terraform init` expect from a provider release.
//!
//! For version V on platform P (only the host's platform, such as `linux_amd64`: the provider is not
//! cross-compiled here) that is:
//! - `terraform-provider-runai_V_P.zip`, holding the binary `terraform-provider-runai_vV`;
//! - `terraform-provider-runai_V_manifest.json`, a copy of `terraform-registry-manifest.json`;
//! - `terraform-provider-runai_V_SHA256SUMS`, the SHA-256 of each of those files;
//! - `terraform-provider-runai_V_SHA256SUMS.sig`, a detached binary GPG signature of the sums, only when
//!   `GPG_FINGERPRINT` names a key and `gpg` is installed.
//!
//! The ZIP file is written with a fixed timestamp, so the same binary always gives the same archive and the
//! same checksum.

use std::env;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::build::{self, Profile};
use crate::paths;
use crate::process::{self, announce};

/// The binary's name, as Cargo builds it and as every artifact's name starts.
pub const BINARY_NAME: &str = "terraform-provider-runai";

/// The variable that names the GPG key (its fingerprint) that signs the checksums.
pub const SIGNING_KEY_VARIABLE: &str = "GPG_FINGERPRINT";

/// What `dist` produced.
#[derive(Debug)]
pub struct Artifacts {
    pub version: String,
    /// Terraform's name for the platform, such as `linux_amd64`.
    pub platform: String,
    pub zip: PathBuf,
    pub sums: PathBuf,
}

/// Builds the provider in release mode and writes the artifacts.
pub fn dist() -> Result<Artifacts> {
    let version = paths::provider_version()?;
    let platform = terraform_platform(env::consts::OS, env::consts::ARCH)?;

    let binary = build::provider("dist", Profile::Release)?;

    let directory = paths::target_directory().join("dist");
    if directory.exists() {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("removing {}", directory.display()))?;
    }
    fs::create_dir_all(&directory).with_context(|| format!("creating {}", directory.display()))?;

    let names = ArtifactNames::new(&version, &platform);
    let zip = directory.join(&names.zip);
    announce(&format!("dist: writing {}", zip.display()));
    write_provider_zip(&binary, &names.binary, &zip)?;

    let manifest = directory.join(&names.manifest);
    let manifest_source = paths::workspace_root().join("terraform-registry-manifest.json");
    fs::copy(&manifest_source, &manifest).with_context(|| {
        format!(
            "copying {} to {}",
            manifest_source.display(),
            manifest.display()
        )
    })?;

    let sums = directory.join(&names.sums);
    let sums_text = sha256_sums(&[zip.as_path(), manifest.as_path()])?;
    fs::write(&sums, &sums_text).with_context(|| format!("writing {}", sums.display()))?;

    sign_if_configured(&sums, &directory.join(&names.signature))?;

    for line in sums_text.lines() {
        eprintln!("    {line}");
    }
    println!(
        "dist: the {platform} release of {BINARY_NAME} {version} is in {} (host platform only)",
        directory.display()
    );
    Ok(Artifacts {
        version,
        platform,
        zip,
        sums,
    })
}

/// The names of a release's files, which Terraform and the Registry derive from the version and platform.
#[derive(Debug, PartialEq, Eq)]
pub struct ArtifactNames {
    pub binary: String,
    pub zip: String,
    pub manifest: String,
    pub sums: String,
    pub signature: String,
}

impl ArtifactNames {
    pub fn new(version: &str, platform: &str) -> ArtifactNames {
        ArtifactNames {
            binary: format!("{BINARY_NAME}_v{version}"),
            zip: format!("{BINARY_NAME}_{version}_{platform}.zip"),
            manifest: format!("{BINARY_NAME}_{version}_manifest.json"),
            sums: format!("{BINARY_NAME}_{version}_SHA256SUMS"),
            signature: format!("{BINARY_NAME}_{version}_SHA256SUMS.sig"),
        }
    }
}

/// Terraform's name for a platform, such as `linux_amd64`, from Rust's names for the OS and architecture.
pub fn terraform_platform(os: &str, arch: &str) -> Result<String> {
    let os = match os {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "windows",
        "freebsd" => "freebsd",
        other => bail!("Terraform has no name for the operating system {other:?}"),
    };
    let arch = match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => bail!("Terraform has no name for the architecture {other:?}"),
    };
    Ok(format!("{os}_{arch}"))
}

/// Writes a ZIP archive holding `binary` as the executable `member_name`, compressed, with a fixed date.
pub fn write_provider_zip(binary: &Path, member_name: &str, zip_path: &Path) -> Result<()> {
    let mut input = File::open(binary).with_context(|| format!("opening {}", binary.display()))?;
    let output =
        File::create(zip_path).with_context(|| format!("creating {}", zip_path.display()))?;
    let mut writer = ZipWriter::new(output);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755)
        // 1980-01-01, the earliest date ZIP can store: a fixed date makes the archive reproducible.
        .last_modified_time(DateTime::default());
    writer
        .start_file(member_name, options)
        .with_context(|| format!("adding {member_name} to {}", zip_path.display()))?;
    io::copy(&mut input, &mut writer).with_context(|| {
        format!(
            "compressing {} into {}",
            binary.display(),
            zip_path.display()
        )
    })?;
    writer
        .finish()
        .with_context(|| format!("finishing {}", zip_path.display()))?
        .flush()
        .with_context(|| format!("writing {}", zip_path.display()))?;
    Ok(())
}

/// The lowercase hexadecimal SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// The text of a SHA256SUMS file, as `sha256sum` writes it: the hash, two spaces and the file name, one
/// line per file, sorted by name.
pub fn sha256_sums(files: &[&Path]) -> Result<String> {
    let mut lines = Vec::with_capacity(files.len());
    for file in files {
        let name = file
            .file_name()
            .and_then(|name| name.to_str())
            .with_context(|| format!("{} has no UTF-8 file name", file.display()))?;
        lines.push((name.to_owned(), sha256_file(file)?));
    }
    lines.sort();
    Ok(lines
        .into_iter()
        .map(|(name, hash)| format!("{hash}  {name}\n"))
        .collect())
}

/// Finds the SHA-256 that a SHA256SUMS text lists for `name`.
pub fn sum_for<'a>(sums: &'a str, name: &str) -> Option<&'a str> {
    sums.lines().find_map(|line| {
        let (hash, file) = line.split_once("  ")?;
        (file == name).then_some(hash)
    })
}

/// Signs `sums` with the key named by `GPG_FINGERPRINT`, or says why it does not.
fn sign_if_configured(sums: &Path, signature: &Path) -> Result<()> {
    let fingerprint = match env::var(SIGNING_KEY_VARIABLE) {
        Ok(fingerprint) if !fingerprint.trim().is_empty() => fingerprint.trim().to_owned(),
        _ => {
            announce(&format!(
                "dist: {SIGNING_KEY_VARIABLE} is not set, so the checksums are not signed \
                 (set it to a GPG key's fingerprint to write {})",
                signature.display()
            ));
            return Ok(());
        }
    };
    let Ok(gpg) = which::which("gpg") else {
        announce(&format!(
            "dist: {SIGNING_KEY_VARIABLE} is set but gpg is not installed, so the checksums are not signed"
        ));
        return Ok(());
    };
    announce(&format!(
        "dist: signing {} with the GPG key {fingerprint}",
        sums.display()
    ));
    process::run(
        Command::new(&gpg)
            .args(["--batch", "--yes", "--local-user", &fingerprint, "--output"])
            .arg(signature)
            .arg("--detach-sign")
            .arg(sums),
    )?;
    // A signature that does not verify is worse than none, so it is checked before anyone uploads it.
    process::output(
        Command::new(&gpg)
            .args(["--batch", "--verify"])
            .arg(signature)
            .arg(sums),
    )
    .context("the new signature does not verify")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn names_follow_the_registry_conventions() {
        let names = ArtifactNames::new("0.1.0", "linux_amd64");
        assert_eq!(
            names,
            ArtifactNames {
                binary: "terraform-provider-runai_v0.1.0".into(),
                zip: "terraform-provider-runai_0.1.0_linux_amd64.zip".into(),
                manifest: "terraform-provider-runai_0.1.0_manifest.json".into(),
                sums: "terraform-provider-runai_0.1.0_SHA256SUMS".into(),
                signature: "terraform-provider-runai_0.1.0_SHA256SUMS.sig".into(),
            }
        );
    }

    #[test]
    fn platforms_use_terraform_names() {
        assert_eq!(
            terraform_platform("linux", "x86_64").unwrap(),
            "linux_amd64"
        );
        assert_eq!(
            terraform_platform("macos", "aarch64").unwrap(),
            "darwin_arm64"
        );
        assert!(terraform_platform("linux", "riscv64").is_err());
        assert!(terraform_platform("plan9", "x86_64").is_err());
    }

    #[test]
    fn the_zip_holds_the_executable_binary_and_is_reproducible() {
        let scratch = tempfile::tempdir().unwrap();
        let binary = scratch.path().join("binary");
        let content: Vec<u8> = (0..100_000u32).map(|index| (index % 251) as u8).collect();
        fs::write(&binary, &content).unwrap();
        let first = scratch.path().join("first.zip");
        write_provider_zip(&binary, "terraform-provider-runai_v1.2.3", &first).unwrap();

        let mut archive = zip::ZipArchive::new(File::open(&first).unwrap()).unwrap();
        assert_eq!(archive.len(), 1);
        let mut member = archive.by_index(0).unwrap();
        assert_eq!(member.name(), "terraform-provider-runai_v1.2.3");
        assert_eq!(member.unix_mode().unwrap() & 0o777, 0o755);
        assert_eq!(member.compression(), CompressionMethod::Deflated);
        let mut unpacked = Vec::new();
        member.read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, content);

        let second = scratch.path().join("second.zip");
        write_provider_zip(&binary, "terraform-provider-runai_v1.2.3", &second).unwrap();
        assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
    }

    #[test]
    fn sums_are_sorted_sha256sum_lines_and_can_be_looked_up() {
        let scratch = tempfile::tempdir().unwrap();
        let b = scratch.path().join("b.zip");
        let a = scratch.path().join("a.json");
        fs::write(&b, "abc").unwrap();
        fs::write(&a, "").unwrap();
        let sums = sha256_sums(&[&b, &a]).unwrap();
        // The SHA-256 test vectors of "" and "abc".
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sums, format!("{empty}  a.json\n{abc}  b.zip\n"));
        assert_eq!(sum_for(&sums, "b.zip"), Some(abc));
        assert_eq!(sum_for(&sums, "c.zip"), None);
    }
}
