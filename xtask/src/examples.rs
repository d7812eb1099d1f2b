//! `cargo xtask examples-check`: every configuration under `examples/` must be `terraform fmt` clean and
//! pass `terraform validate` against the provider's real schema.
//!
//! Validation runs on a copy of each example directory, with the freshly built provider wired in through
//! `dev_overrides`; with those, Terraform 1.0.3 validates without `terraform init`, so nothing is
//! downloaded and the examples directory stays free of `.terraform/` litter. Registry-doc examples show
//! only the interesting part, so a copy that does not declare `required_providers` gets a file that does.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use crate::dev_terraform::{self, DevTerraform, REQUIRED_PROVIDERS_BLOCK};
use crate::paths;
use crate::process::{self, announce};
use crate::setup;

/// The file added to a copy whose example does not select the provider itself.
const REQUIRED_PROVIDERS_FILE: &str = "xtask_required_providers.tf";

/// Checks the formatting of every example and validates each example directory.
pub fn examples_check() -> Result<()> {
    let tools = setup::setup()?;
    let provider_directory = dev_terraform::build_debug_provider()?;
    let terraform = DevTerraform::new(&tools.terraform, &provider_directory)?;
    let root = paths::workspace_root();

    announce("examples-check: terraform fmt -check -recursive examples");
    process::run(&mut terraform.command(
        &root,
        &[
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            "-no-color",
            "examples",
        ],
    ))
    .context("some examples are not formatted; run `terraform fmt -recursive examples`")?;

    let directories = example_directories(&root.join("examples"))?;
    let mut failures = Vec::new();
    for (index, directory) in directories.iter().enumerate() {
        let shown = directory
            .strip_prefix(&root)
            .unwrap_or(directory)
            .display()
            .to_string();
        announce(&format!("examples-check: terraform validate {shown}"));
        let work = terraform.work_directory(&format!("validate-{index}"))?;
        prepare_copy(directory, &work)?;
        // Only a failure's output is shown: on success Terraform merely repeats its warning that
        // development overrides are in effect, which is the point here.
        match process::output(&mut terraform.command(&work, &["validate", "-no-color"])) {
            Ok(_) => eprintln!("    valid"),
            Err(error) => {
                eprintln!("{error:#}");
                failures.push(shown);
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "`terraform validate` failed for these examples (see above):\n  {}",
            failures.join("\n  ")
        );
    }
    println!(
        "examples-check: all examples are formatted and {} directories validate",
        directories.len()
    );
    Ok(())
}

/// Every directory under `examples` that holds `.tf` files, in a stable order.
fn example_directories(examples: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![examples.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let mut has_terraform_files = false;
        for entry in
            fs::read_dir(&directory).with_context(|| format!("reading {}", directory.display()))?
        {
            let path = entry
                .with_context(|| format!("reading {}", directory.display()))?
                .path();
            let hidden = path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'));
            if path.is_dir() && !hidden {
                pending.push(path);
            } else if is_terraform_file(&path) {
                has_terraform_files = true;
            }
        }
        if has_terraform_files {
            found.push(directory);
        }
    }
    found.sort();
    ensure!(
        !found.is_empty(),
        "{} holds no Terraform configurations",
        examples.display()
    );
    Ok(found)
}

fn is_terraform_file(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|extension| extension == "tf")
}

/// Copies an example's `.tf` files into `work`, adding a `required_providers` block when none has one.
fn prepare_copy(example: &Path, work: &Path) -> Result<()> {
    let mut declares_provider = false;
    for entry in fs::read_dir(example).with_context(|| format!("reading {}", example.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", example.display()))?
            .path();
        if !is_terraform_file(&path) {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        declares_provider |= text.contains("required_providers");
        let target = work.join(path.file_name().expect("a file has a name"));
        fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    if !declares_provider {
        let target = work.join(REQUIRED_PROVIDERS_FILE);
        fs::write(&target, REQUIRED_PROVIDERS_BLOCK)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_with_terraform_files_are_found_in_order() {
        let scratch = tempfile::tempdir().unwrap();
        let root = scratch.path();
        for (path, text) in [
            ("provider/provider.tf", "provider \"runai\" {}"),
            ("resources/runai_registry/resource.tf", ""),
            ("resources/runai_registry/import.sh", ""),
            ("resources/only_shell/import.sh", ""),
            ("demo/.terraform/modules/m/main.tf", ""),
            ("demo/main.tf", ""),
        ] {
            let file = root.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        let found: Vec<_> = example_directories(root)
            .unwrap()
            .into_iter()
            .map(|path| {
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(found, ["demo", "provider", "resources/runai_registry"]);
    }

    #[test]
    fn an_examples_directory_without_configurations_fails() {
        let scratch = tempfile::tempdir().unwrap();
        assert!(example_directories(scratch.path()).is_err());
    }

    #[test]
    fn copies_get_a_required_providers_block_only_when_they_lack_one() {
        let scratch = tempfile::tempdir().unwrap();
        let bare = scratch.path().join("bare");
        let declared = scratch.path().join("declared");
        fs::create_dir_all(&bare).unwrap();
        fs::create_dir_all(&declared).unwrap();
        fs::write(
            bare.join("data-source.tf"),
            "data \"runai_registries\" \"all\" {}",
        )
        .unwrap();
        fs::write(bare.join("notes.md"), "not copied").unwrap();
        fs::write(
            declared.join("main.tf"),
            "terraform {\n  required_providers {}\n}",
        )
        .unwrap();

        let bare_copy = scratch.path().join("bare-copy");
        fs::create_dir_all(&bare_copy).unwrap();
        prepare_copy(&bare, &bare_copy).unwrap();
        let added = fs::read_to_string(bare_copy.join(REQUIRED_PROVIDERS_FILE)).unwrap();
        assert!(added.contains("source = \"runai/runai\""));
        assert!(bare_copy.join("data-source.tf").is_file());
        assert!(!bare_copy.join("notes.md").exists());

        let declared_copy = scratch.path().join("declared-copy");
        fs::create_dir_all(&declared_copy).unwrap();
        prepare_copy(&declared, &declared_copy).unwrap();
        assert!(!declared_copy.join(REQUIRED_PROVIDERS_FILE).exists());
    }
}
