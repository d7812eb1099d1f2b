//! Row 4's registry: a real `docker-registry` (the test fixture of the emulator crate) holding 10,000
//! repositories, one of which has 10,000 tags.
//!
//! Pushing that many images through HTTP takes far too long, so one image is pushed for real and the
//! registry's filesystem storage is then extended the way the registry itself would have written it: each
//! further repository gets a copy of the pushed repository's link files (`_layers`, `_manifests`), and each
//! further tag a copy of the pushed tag's directory (`_manifests/tags/<tag>/current/link` and its index).
//! Every link points at the blobs that the real push stored, so the registry serves the copies exactly as
//! pushed images; `docker-registry` reads its storage on every catalog and tag listing (there is no
//! cache in this configuration), and the benchmark reads both lists through its HTTP API via the emulator.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use runai_emulator::oci_fixture::OciRegistry;

use super::Interruption;

/// The name of the `index`-th repository.
pub fn repository_name(index: usize) -> String {
    format!("bench/repository-{index:05}")
}

/// The name of the `index`-th tag.
fn tag_name(index: usize) -> String {
    format!("build-{index:05}")
}

/// A running registry with `repositories` repositories, the first of which, [`BigRegistry::tagged`], has
/// `tags` tags.
pub struct BigRegistry {
    pub registry: OciRegistry,
    pub tagged: String,
}

/// Starts the registry and fills it.
pub fn start(repositories: usize, tags: usize, interruption: &Interruption) -> Result<BigRegistry> {
    ensure!(
        repositories >= 1 && tags >= 1,
        "the registry needs at least one repository and one tag"
    );
    let registry = OciRegistry::start().context("starting the OCI registry")?;
    let tagged = repository_name(0);
    registry
        .push_image(&tagged, &[&tag_name(0)])
        .with_context(|| format!("pushing {tagged}"))?;
    let storage = storage_directory(std::process::id())?;
    let repositories_root = storage.join("docker/registry/v2/repositories");
    let template = repositories_root.join(&tagged);
    ensure!(
        template.join("_manifests").is_dir(),
        "the pushed repository is not at {}",
        template.display()
    );
    // The other repositories are copied while the template still has a single tag.
    for index in 1..repositories {
        if index % 1000 == 0 {
            interruption.check()?;
        }
        copy_tree(&template, &repositories_root.join(repository_name(index)))?;
    }
    let tags_root = template.join("_manifests/tags");
    let template_tag = tags_root.join(tag_name(0));
    for index in 1..tags {
        if index % 1000 == 0 {
            interruption.check()?;
        }
        copy_tree(&template_tag, &tags_root.join(tag_name(index)))?;
    }
    Ok(BigRegistry { registry, tagged })
}

/// The storage directory of the `docker-registry` that the fixture started as a child of `parent`.
///
/// The fixture keeps it private, so it is read from the registry's command line
/// (`docker-registry serve <directory>/config.yml`), next to which the fixture puts `storage/`.
fn storage_directory(parent: u32) -> Result<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").context("reading /proc")? {
        let Some(pid) = entry
            .ok()
            .and_then(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(command_line) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        if parent_of(&status) != Some(parent) {
            continue;
        }
        if let Some(config) = registry_config(&command_line) {
            found.push(config);
        }
    }
    ensure!(
        found.len() == 1,
        "expected one docker-registry child process, found {}",
        found.len()
    );
    let config = &found[0];
    let storage = config
        .parent()
        .context("the registry configuration has no directory")?
        .join("storage");
    ensure!(
        storage.is_dir(),
        "the registry's storage is not at {}",
        storage.display()
    );
    Ok(storage)
}

/// The `PPid` line of `/proc/<pid>/status`.
fn parent_of(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("PPid:"))
        .and_then(|value| value.trim().parse().ok())
}

/// The configuration file of a `docker-registry serve <file>` command line (NUL-separated, as in
/// `/proc/<pid>/cmdline`).
fn registry_config(command_line: &[u8]) -> Option<PathBuf> {
    let arguments: Vec<&[u8]> = command_line
        .split(|byte| *byte == 0)
        .filter(|argument| !argument.is_empty())
        .collect();
    match arguments.as_slice() {
        [program, b"serve", config] if program.ends_with(b"docker-registry") => {
            Some(PathBuf::from(OsStr::from_bytes(config)))
        }
        _ => None,
    }
}

/// Copies the directory tree `from` to `to`, which must not exist yet.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        let source = entry.path();
        let destination = to.join(entry.file_name());
        if entry
            .file_type()
            .with_context(|| format!("reading {}", source.display()))?
            .is_dir()
        {
            copy_tree(&source, &destination)?;
        } else {
            fs::copy(&source, &destination).with_context(|| {
                format!("copying {} to {}", source.display(), destination.display())
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_creation_order() {
        assert_eq!(repository_name(7), "bench/repository-00007");
        assert!(repository_name(999) < repository_name(1000));
        assert!(tag_name(9) < tag_name(10));
    }

    #[test]
    fn the_registry_configuration_is_read_from_its_command_line() {
        assert_eq!(
            registry_config(b"/usr/bin/docker-registry\0serve\0/tmp/r-1/config.yml\0"),
            Some(PathBuf::from("/tmp/r-1/config.yml"))
        );
        assert_eq!(
            registry_config(b"/usr/bin/terraform\0serve\0/tmp/x\0"),
            None
        );
        assert_eq!(
            registry_config(b"docker-registry\0garbage-collect\0c.yml\0"),
            None
        );
    }

    #[test]
    fn the_parent_pid_is_read_from_the_status() {
        assert_eq!(parent_of("Name:\tsleep\nPid:\t20\nPPid:\t12\n"), Some(12));
        assert_eq!(parent_of("Name:\tsleep\n"), None);
    }

    #[test]
    fn copy_tree_copies_nested_files() {
        let scratch = tempfile::tempdir().unwrap();
        let source = scratch.path().join("source");
        fs::create_dir_all(source.join("_manifests/tags/v1/current")).unwrap();
        fs::write(source.join("_manifests/tags/v1/current/link"), "sha256:abc").unwrap();
        fs::create_dir_all(source.join("_uploads")).unwrap();
        let copy = scratch.path().join("copy");
        copy_tree(&source, &copy).unwrap();
        assert_eq!(
            fs::read_to_string(copy.join("_manifests/tags/v1/current/link")).unwrap(),
            "sha256:abc"
        );
        assert!(copy.join("_uploads").is_dir());
    }
}
