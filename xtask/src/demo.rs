//! `cargo xtask demo`: a new user's first command. It builds the provider, starts a real OCI registry and the
//! Run:ai emulator, and drives Terraform through `examples/demo/` from `init` to `destroy`.
//!
//! Terraform finds the freshly built provider through a filesystem mirror described by a private CLI
//! config, so nothing is installed outside `target/demo/` and no network is needed. The registry and the
//! emulator stop when their handles drop, which happens on every way out of [`demo`], including errors,
//! panics and Ctrl-C (Terraform gets the signal itself and exits, and xtask then unwinds normally).

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use runai_emulator::oci_fixture::OciRegistry;
use runai_emulator::{spawn_in_background, EmulatorConfig};

use crate::build::{self, Profile};
use crate::dev_terraform::hcl_string;
use crate::dist::terraform_platform;
use crate::paths;
use crate::process::{self, announce};
use crate::setup;

/// The provider's address, as `examples/demo/main.tf` requires it.
const PROVIDER_ADDRESS: &str = "registry.terraform.io/runai/runai";

/// The images pushed into the demo registry: a repository and its tags.
const DEMO_IMAGES: &[(&str, &[&str])] = &[
    ("team/pytorch", &["2.3", "2.4"]),
    ("team/tensorflow", &["latest"]),
    ("tools/jupyter", &["4.1"]),
];

/// The repository whose tags `examples/demo/main.tf` reads.
const TAGGED_REPOSITORY: &str = "team/pytorch";

/// Runs the whole demo and prints a one-line summary when it succeeds.
pub fn demo() -> Result<()> {
    let interrupted = stop_on_interrupt()?;
    let outcome = run_demo(&interrupted);
    // After Ctrl-C the failing step's own error (say, Terraform's exit status) would only confuse.
    if interrupted.load(Ordering::SeqCst) {
        bail!("interrupted by Ctrl-C");
    }
    outcome
}

fn run_demo(interrupted: &Arc<AtomicBool>) -> Result<()> {
    let started = Instant::now();
    let tools = setup::setup()?;

    let provider_binary = build::provider("demo", Profile::Debug)?;

    let demo_directory = paths::demo_directory();
    prepare_demo_directory(&demo_directory, &provider_binary)?;

    announce("demo: starting a real OCI registry (docker-registry) and pushing the demo images");
    let registry = OciRegistry::start().context("starting the OCI registry")?;
    for (repository, tags) in DEMO_IMAGES {
        registry
            .push_image(repository, tags)
            .with_context(|| format!("pushing {repository} to the OCI registry"))?;
    }
    eprintln!("    registry at {} (user {})", registry.url, registry.user);

    announce("demo: starting the Run:ai emulator");
    let emulator_config = EmulatorConfig::default();
    let client_id = emulator_config.client_id.clone();
    let client_secret = emulator_config.client_secret.clone();
    let emulator = spawn_in_background(emulator_config).context("starting the emulator")?;
    eprintln!(
        "    emulator at {} (client id {client_id})",
        emulator.base_url
    );

    let cli_config = demo_directory.join("terraformrc");
    let terraform = Terraform {
        binary: tools.terraform,
        work_directory: demo_directory.join("work"),
        environment: vec![
            ("TF_CLI_CONFIG_FILE", cli_config.into_os_string()),
            ("TF_IN_AUTOMATION", "1".into()),
            ("CHECKPOINT_DISABLE", "1".into()),
            ("RUNAI_BASE_URL", emulator.base_url.clone().into()),
            ("RUNAI_CLIENT_ID", client_id.into()),
            ("RUNAI_CLIENT_SECRET", client_secret.into()),
            ("TF_VAR_registry_url", registry.url.clone().into()),
            ("TF_VAR_registry_user", registry.user.clone().into()),
            ("TF_VAR_registry_password", registry.password.clone().into()),
        ],
        interrupted: Arc::clone(interrupted),
    };
    let outcome = terraform.run_lifecycle();

    announce("demo: stopping the emulator and the OCI registry");
    drop(emulator);
    drop(registry);

    let results = outcome?;
    println!(
        "demo: success in {:.1}s: Terraform created {:?} in the emulator, read {} repositories and {} {TAGGED_REPOSITORY} tags from a real registry, found nothing to change on a second plan and destroyed it",
        started.elapsed().as_secs_f64(),
        results.registry_name,
        results.repositories.len(),
        results.tags.len(),
    );
    Ok(())
}

/// Lets Ctrl-C end the demo through the normal error path instead of killing xtask on the spot, so the
/// handles of the registry and the emulator drop and stop them. The children get the signal themselves.
fn stop_on_interrupt() -> Result<Arc<AtomicBool>> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    Ok(interrupted)
}

/// Recreates `target/demo/`: the provider in a filesystem mirror, the CLI config and a fresh working
/// directory holding a copy of `examples/demo/*.tf`.
fn prepare_demo_directory(demo_directory: &Path, provider_binary: &Path) -> Result<()> {
    if demo_directory.exists() {
        fs::remove_dir_all(demo_directory)
            .with_context(|| format!("removing {}", demo_directory.display()))?;
    }
    let version = paths::provider_version()?;
    let platform = terraform_platform(env::consts::OS, env::consts::ARCH)?;
    let mirror = demo_directory.join("plugins");
    let installed = mirror.join(mirror_path(&version, &platform));
    announce(&format!(
        "demo: installing the provider into {}",
        installed.display()
    ));
    let parent = installed.parent().expect("the mirror path has directories");
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    fs::copy(provider_binary, &installed).with_context(|| {
        format!(
            "copying {} to {}",
            provider_binary.display(),
            installed.display()
        )
    })?;
    fs::set_permissions(&installed, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", installed.display()))?;

    let cli_config = demo_directory.join("terraformrc");
    fs::write(&cli_config, cli_config_text(&mirror)?)
        .with_context(|| format!("writing {}", cli_config.display()))?;

    let examples = paths::workspace_root().join("examples").join("demo");
    let work = demo_directory.join("work");
    announce(&format!(
        "demo: copying {}/*.tf into {}",
        examples.display(),
        work.display()
    ));
    copy_terraform_files(&examples, &work)
}

/// The provider binary's place in a filesystem mirror, in Terraform's "unpacked" layout.
fn mirror_path(version: &str, platform: &str) -> PathBuf {
    Path::new(PROVIDER_ADDRESS)
        .join(version)
        .join(platform)
        .join(format!("terraform-provider-runai_v{version}"))
}

/// A CLI config that takes this provider from the mirror only and everything else from the registry.
fn cli_config_text(mirror: &Path) -> Result<String> {
    let mirror = mirror
        .to_str()
        .context("the demo directory's path is not valid UTF-8")?;
    Ok(format!(
        r#"# Written by `cargo xtask demo`: Terraform takes the provider from the local mirror below.
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

/// Copies the `*.tf` files (not subdirectories, state or lock files) into a new `destination`.
fn copy_terraform_files(source: &Path, destination: &Path) -> Result<()> {
    fs::create_dir_all(destination)
        .with_context(|| format!("creating {}", destination.display()))?;
    let mut copied = 0;
    for entry in fs::read_dir(source).with_context(|| format!("reading {}", source.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", source.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|extension| extension == "tf") {
            let target = destination.join(path.file_name().expect("a file has a name"));
            fs::copy(&path, &target)
                .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
            copied += 1;
        }
    }
    ensure!(copied > 0, "{} holds no .tf files", source.display());
    Ok(())
}

/// Runs Terraform in the demo's working directory with the demo's environment.
struct Terraform {
    binary: PathBuf,
    work_directory: PathBuf,
    /// Holds the client secret and the registry password, so it is never printed.
    environment: Vec<(&'static str, OsString)>,
    interrupted: Arc<AtomicBool>,
}

/// What the demo read back through Terraform, for the summary.
#[derive(Debug)]
struct DemoResults {
    registry_name: String,
    repositories: Vec<String>,
    tags: Vec<String>,
}

impl Terraform {
    /// `init`, `apply`, a second `plan` that must be empty, `output` and `destroy`. When a step after `init`
    /// fails, `destroy` still runs (unless the user interrupted), so the emulator is left as it was found.
    fn run_lifecycle(&self) -> Result<DemoResults> {
        self.run(&["init", "-input=false"])?;
        let outcome = self.apply_and_check();
        match outcome {
            Ok(results) => {
                self.run(&["destroy", "-auto-approve", "-input=false"])?;
                Ok(results)
            }
            Err(error) => {
                if !self.interrupted.load(Ordering::SeqCst) {
                    announce("demo: a step failed; destroying what was created");
                    if let Err(destroy_error) =
                        self.run(&["destroy", "-auto-approve", "-input=false"])
                    {
                        eprintln!(
                            "xtask: warning: the clean-up destroy failed too: {destroy_error:#}"
                        );
                    }
                }
                Err(error)
            }
        }
    }

    fn apply_and_check(&self) -> Result<DemoResults> {
        self.run(&["apply", "-auto-approve", "-input=false"])?;

        self.check_interrupted()?;
        let status = process::run_for_status(&mut self.command(&[
            "plan",
            "-detailed-exitcode",
            "-input=false",
        ]))?;
        match status.code() {
            Some(0) => announce("demo: second plan: no changes"),
            Some(2) => bail!(
                "the second plan wants changes right after apply, so the provider does not round-trip its state"
            ),
            _ => bail!("`terraform plan -detailed-exitcode` failed ({status})"),
        }

        self.run(&["output"])?;
        self.check_interrupted()?;
        let outputs = process::output(&mut self.command(&["output", "-json"]))?;
        check_outputs(&outputs)
    }

    fn run(&self, arguments: &[&str]) -> Result<()> {
        self.check_interrupted()?;
        process::run(&mut self.command(arguments))
    }

    fn check_interrupted(&self) -> Result<()> {
        if self.interrupted.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        Ok(())
    }

    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(arguments)
            .current_dir(&self.work_directory)
            .stdin(Stdio::null());
        // Colour codes help in a terminal but litter CI logs and redirected output.
        if !std::io::stdout().is_terminal() {
            command.arg("-no-color");
        }
        // RUNAI_* variables from the user's shell could point the provider at a real cluster or change
        // its behaviour; the demo must only ever talk to its own emulator.
        for (name, _) in env::vars_os() {
            if name.to_string_lossy().starts_with("RUNAI_") {
                command.env_remove(name);
            }
        }
        command.envs(self.environment.iter().map(|(name, value)| (name, value)));
        command
    }
}

/// Checks that Terraform read back exactly what was pushed into the registry.
fn check_outputs(outputs_json: &str) -> Result<DemoResults> {
    let outputs: serde_json::Value =
        serde_json::from_str(outputs_json).context("parsing `terraform output -json`")?;
    let registry_name = string_output(&outputs, "registry_name")?;
    let repositories = list_output(&outputs, "repositories")?;
    let tags = list_output(&outputs, "pytorch_tags")?;

    let pushed_repositories: BTreeSet<&str> = DEMO_IMAGES
        .iter()
        .map(|(repository, _)| *repository)
        .collect();
    let read_repositories: BTreeSet<&str> = repositories.iter().map(String::as_str).collect();
    ensure!(
        read_repositories == pushed_repositories,
        "Terraform read the repositories {read_repositories:?}, but the demo pushed {pushed_repositories:?}"
    );
    let pushed_tags: BTreeSet<&str> = DEMO_IMAGES
        .iter()
        .filter(|(repository, _)| *repository == TAGGED_REPOSITORY)
        .flat_map(|(_, tags)| tags.iter().copied())
        .collect();
    let read_tags: BTreeSet<&str> = tags.iter().map(String::as_str).collect();
    ensure!(
        read_tags == pushed_tags,
        "Terraform read the {TAGGED_REPOSITORY} tags {read_tags:?}, but the demo pushed {pushed_tags:?}"
    );
    Ok(DemoResults {
        registry_name,
        repositories,
        tags,
    })
}

fn output_value<'a>(outputs: &'a serde_json::Value, name: &str) -> Result<&'a serde_json::Value> {
    outputs
        .get(name)
        .and_then(|output| output.get("value"))
        .with_context(|| format!("`terraform output -json` has no output {name:?}"))
}

fn string_output(outputs: &serde_json::Value, name: &str) -> Result<String> {
    output_value(outputs, name)?
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the output {name:?} is not a string"))
}

fn list_output(outputs: &serde_json::Value, name: &str) -> Result<Vec<String>> {
    let value = output_value(outputs, name)?;
    let items = value
        .as_array()
        .with_context(|| format!("the output {name:?} is not a list"))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .with_context(|| format!("the output {name:?} holds something other than strings"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_uses_the_unpacked_layout() {
        assert_eq!(
            mirror_path("0.1.0", "linux_amd64"),
            Path::new("registry.terraform.io/runai/runai/0.1.0/linux_amd64/terraform-provider-runai_v0.1.0")
        );
    }

    #[test]
    fn the_cli_config_limits_the_mirror_to_this_provider() {
        let text = cli_config_text(Path::new("/demo/plugins")).unwrap();
        assert!(
            text.contains("filesystem_mirror {\n    path    = \"/demo/plugins\"\n"),
            "{text}"
        );
        assert!(
            text.contains("include = [\"registry.terraform.io/runai/runai\"]"),
            "{text}"
        );
        assert!(
            text.contains("direct {\n    exclude = [\"registry.terraform.io/runai/runai\"]"),
            "{text}"
        );
    }

    #[test]
    fn only_terraform_files_are_copied() {
        let scratch = tempfile::tempdir().unwrap();
        let source = scratch.path().join("source");
        fs::create_dir_all(source.join(".terraform")).unwrap();
        fs::write(source.join("main.tf"), "# main").unwrap();
        fs::write(source.join("variables.tf"), "# variables").unwrap();
        fs::write(source.join("terraform.tfstate"), "{}").unwrap();
        let destination = scratch.path().join("work");

        copy_terraform_files(&source, &destination).unwrap();

        let mut copied: Vec<String> = fs::read_dir(&destination)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        copied.sort();
        assert_eq!(copied, ["main.tf", "variables.tf"]);
        assert_eq!(
            fs::read_to_string(destination.join("main.tf")).unwrap(),
            "# main"
        );
    }

    #[test]
    fn copying_from_a_directory_without_terraform_files_fails() {
        let scratch = tempfile::tempdir().unwrap();
        let error = copy_terraform_files(scratch.path(), &scratch.path().join("work")).unwrap_err();
        assert!(format!("{error:#}").contains("holds no .tf files"));
    }

    #[test]
    fn the_real_demo_configuration_is_copied() {
        let scratch = tempfile::tempdir().unwrap();
        let examples = paths::workspace_root().join("examples").join("demo");
        copy_terraform_files(&examples, scratch.path()).unwrap();
        let main = fs::read_to_string(scratch.path().join("main.tf")).unwrap();
        assert!(main.contains("resource \"runai_registry\" \"demo\""));
    }

    fn outputs(repositories: &str, tags: &str) -> String {
        format!(
            r#"{{
                "registry_id": {{"sensitive": false, "type": "string", "value": "0a6c0e52-7d0b-4c4b-9d43-9b9e0f1d2c3a"}},
                "registry_name": {{"sensitive": false, "type": "string", "value": "demo-registry"}},
                "repositories": {{"sensitive": false, "type": ["list", "string"], "value": {repositories}}},
                "pytorch_tags": {{"sensitive": false, "type": ["list", "string"], "value": {tags}}}
            }}"#
        )
    }

    #[test]
    fn outputs_that_match_the_pushed_images_pass_in_any_order() {
        let text = outputs(
            r#"["tools/jupyter", "team/pytorch", "team/tensorflow"]"#,
            r#"["2.4", "2.3"]"#,
        );
        let results = check_outputs(&text).unwrap();
        assert_eq!(results.registry_name, "demo-registry");
        assert_eq!(results.repositories.len(), 3);
        assert_eq!(results.tags.len(), 2);
    }

    #[test]
    fn outputs_that_miss_an_image_or_a_tag_fail() {
        let missing_repository = outputs(
            r#"["team/pytorch", "team/tensorflow"]"#,
            r#"["2.3", "2.4"]"#,
        );
        assert!(
            format!("{:#}", check_outputs(&missing_repository).unwrap_err())
                .contains("repositories")
        );
        let missing_tag = outputs(
            r#"["team/pytorch", "team/tensorflow", "tools/jupyter"]"#,
            r#"["2.3"]"#,
        );
        assert!(format!("{:#}", check_outputs(&missing_tag).unwrap_err()).contains("tags"));
        assert!(check_outputs("{}").is_err());
    }
}
