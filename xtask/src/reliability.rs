//! `cargo xtask reliability`: the figures of issue 5, measured against the emulator with injected
//! faults (20% 503 before acting, 5% 503 after acting, 5% 429 with `Retry-After: 1`, 0–50 ms of
//! latency on every call).
//!
//! Two scenarios run with the release build of the provider and Terraform's default parallelism:
//! 1. apply N registries, plan (must be empty), destroy (must leave nothing);
//! 2. apply N registries, interrupt with SIGINT halfway, apply again, and check that the server holds
//!    exactly the declared registries, once each.
//!
//! It prints a table and fails when a figure that must be zero is not.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use runai_emulator::{spawn_in_background, Emulator, EmulatorConfig, Faults, RunningEmulator};

use crate::build::{self, Profile};
use crate::paths;
use crate::process::announce;
use crate::setup;

/// The faults of every run.
fn faults() -> Faults {
    Faults {
        latency_min_ms: 0,
        latency_max_ms: 50,
        unavailable_ratio: 0.20,
        rate_limit_ratio: 0.05,
        retry_after_secs: 1,
        fail_after_commit_ratio: 0.05,
    }
}

/// What one scenario measured.
#[derive(Default)]
struct Figures {
    created: usize,
    duplicates: usize,
    left_after_destroy: usize,
    non_empty_plans: usize,
    retries: usize,
    injected: String,
    wall: Duration,
    note: String,
}

/// Runs both scenarios for `count` registries.
pub fn reliability(count: usize) -> Result<()> {
    ensure!(count >= 2, "--count must be at least 2");
    let tools = setup::setup()?;
    let provider = build::provider("reliability", Profile::Release)?;
    let directory = paths::target_directory().join("reliability");
    if directory.exists() {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("removing {}", directory.display()))?;
    }
    fs::create_dir_all(&directory)?;

    let first = apply_plan_destroy(
        &tools.terraform,
        &provider,
        &directory.join("faults"),
        count,
    )?;
    let second = interrupted_apply(
        &tools.terraform,
        &provider,
        &directory.join("sigint"),
        count,
    )?;

    println!("\nReliability figures: {count} runai_registry, Terraform default parallelism (10), faults: 20% 503, 5% 503 after commit, 5% 429 (Retry-After 1 s), 0-50 ms latency\n");
    println!("| scenario | created | duplicates | left after destroy | non-empty plans | retries | faults injected | wall time |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, figures) in [
        ("apply, plan, destroy", &first),
        ("SIGINT halfway, apply again, destroy", &second),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            figures.created,
            figures.duplicates,
            figures.left_after_destroy,
            figures.non_empty_plans,
            figures.retries,
            figures.injected,
            figures.wall.as_secs_f64()
        );
    }
    println!("\n{}", second.note);
    for (name, figures) in [("first", &first), ("second", &second)] {
        ensure!(
            figures.created == count,
            "{name} scenario: {} of {count} registries created",
            figures.created
        );
        ensure!(
            figures.duplicates == 0,
            "{name} scenario: duplicates on the server"
        );
        ensure!(
            figures.left_after_destroy == 0,
            "{name} scenario: registries left after destroy"
        );
        ensure!(
            figures.non_empty_plans == 0,
            "{name} scenario: a plan after apply was not empty"
        );
    }
    println!("reliability: all must-be-zero figures are zero");
    Ok(())
}

/// A Terraform working directory for one scenario, with its own emulator.
struct Scenario {
    terraform: PathBuf,
    directory: PathBuf,
    emulator: RunningEmulator,
    log: PathBuf,
}

impl Scenario {
    fn new(terraform: &Path, provider: &Path, directory: &Path, count: usize) -> Result<Scenario> {
        fs::create_dir_all(directory)?;
        let plugins = directory.join("plugins");
        fs::create_dir_all(&plugins)?;
        let installed = plugins.join("terraform-provider-runai");
        fs::copy(provider, &installed)?;
        fs::set_permissions(&installed, fs::Permissions::from_mode(0o755))?;
        fs::write(
            directory.join("terraformrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"runai/runai\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugins.display()
            ),
        )?;
        fs::write(
            directory.join("main.tf"),
            format!(
                r#"terraform {{
  required_providers {{
    runai = {{ source = "runai/runai" }}
  }}
}}

provider "runai" {{}}

resource "runai_registry" "fleet" {{
  count    = {count}
  name     = "fleet-${{count.index}}"
  scope    = "tenant"
  url      = "https://registry-${{count.index}}.example.com"
  user     = "robot"
  password = "reliability-password"
}}
"#
            ),
        )?;
        let emulator = spawn_in_background(EmulatorConfig {
            faults: faults(),
            ..EmulatorConfig::default()
        })
        .context("starting the emulator")?;
        Ok(Scenario {
            terraform: terraform.to_owned(),
            directory: directory.to_owned(),
            log: directory.join("terraform.log"),
            emulator,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let defaults = EmulatorConfig::default();
        let mut command = Command::new(&self.terraform);
        command
            .args(args)
            .current_dir(&self.directory)
            .env("TF_CLI_CONFIG_FILE", self.directory.join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_LOG", "DEBUG")
            .env("TF_LOG_PATH", &self.log)
            .env("RUNAI_BASE_URL", &self.emulator.base_url)
            .env("RUNAI_CLIENT_ID", defaults.client_id)
            .env("RUNAI_CLIENT_SECRET", defaults.client_secret)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Runs Terraform and returns its exit code; Terraform's errors are shown when it fails.
    fn run(&self, args: &[&str]) -> Result<i32> {
        let output = self.command(args).output().context("running terraform")?;
        let code = output.status.code().unwrap_or(-1);
        if code == 1 {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(code)
    }

    fn emulator(&self) -> &Emulator {
        &self.emulator.emulator
    }

    /// How many times each name exists on the server.
    fn names(&self) -> BTreeMap<String, usize> {
        let mut names = BTreeMap::new();
        for registry in self.emulator().registries() {
            let name = registry["meta"]["name"].as_str().unwrap_or("").to_owned();
            *names.entry(name).or_insert(0) += 1;
        }
        names
    }

    /// Retries the provider logged, read from Terraform's log.
    fn retries(&self) -> usize {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("runai api retry"))
            .count()
    }

    fn injected(&self) -> String {
        let injected = &self.emulator().stats()["injected"];
        format!(
            "{} × 503, {} × 503 after commit, {} × 429",
            injected["unavailable"], injected["fail_after_commit"], injected["rate_limited"]
        )
    }

    /// Plans with `-detailed-exitcode` and says whether the plan had changes.
    fn plan_has_changes(&self) -> Result<bool> {
        match self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])? {
            0 => Ok(false),
            2 => Ok(true),
            code => bail!("terraform plan failed with exit code {code}"),
        }
    }

    fn destroy(&self) -> Result<usize> {
        let code = self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])?;
        ensure!(code == 0, "terraform destroy failed with exit code {code}");
        Ok(self.emulator().registries().len())
    }
}

fn duplicates(names: &BTreeMap<String, usize>) -> usize {
    names
        .values()
        .filter(|count| **count > 1)
        .map(|count| count - 1)
        .sum()
}

fn apply_plan_destroy(
    terraform: &Path,
    provider: &Path,
    directory: &Path,
    count: usize,
) -> Result<Figures> {
    announce(&format!(
        "reliability: apply {count} registries under faults, plan, destroy"
    ));
    let scenario = Scenario::new(terraform, provider, directory, count)?;
    let started = Instant::now();
    let code = scenario.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    ensure!(code == 0, "terraform apply failed with exit code {code}");
    let names = scenario.names();
    let mut figures = Figures {
        created: names.len(),
        duplicates: duplicates(&names),
        ..Figures::default()
    };
    figures.non_empty_plans = usize::from(scenario.plan_has_changes()?);
    figures.left_after_destroy = scenario.destroy()?;
    figures.wall = started.elapsed();
    figures.retries = scenario.retries();
    figures.injected = scenario.injected();
    Ok(figures)
}

fn interrupted_apply(
    terraform: &Path,
    provider: &Path,
    directory: &Path,
    count: usize,
) -> Result<Figures> {
    announce(&format!(
        "reliability: apply {count} registries, SIGINT halfway, apply again"
    ));
    let scenario = Scenario::new(terraform, provider, directory, count)?;
    let started = Instant::now();
    // Terraform runs in a process group of its own, and the signal goes to the whole group, as a
    // terminal's Ctrl-C does: Terraform and the provider both receive it.
    let mut apply = scenario
        .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .process_group(0)
        .spawn()
        .context("starting terraform apply")?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while scenario.emulator().registries().len() < count / 2 {
        ensure!(
            Instant::now() < deadline,
            "the apply never reached half of the registries"
        );
        if apply.try_wait()?.is_some() {
            bail!("terraform apply ended before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let at_interrupt = scenario.emulator().registries().len();
    // SAFETY: signals the process group of our own child, which exists until the child is waited for.
    unsafe {
        libc::kill(-(apply.id() as libc::pid_t), libc::SIGINT);
    }
    let interrupted = apply.wait_with_output()?;
    let after_interrupt = scenario.emulator().registries().len();
    let state_count = state_resource_count(&scenario)?;

    let code = scenario.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    ensure!(
        code == 0,
        "the second terraform apply failed with exit code {code}"
    );
    let names = scenario.names();
    let declared: Vec<String> = (0..count).map(|index| format!("fleet-{index}")).collect();
    ensure!(
        after_interrupt == state_count,
        "after the interrupt the server holds {after_interrupt} registries but the state {state_count}: \
         an interrupted create was lost"
    );
    let exactly_declared = names.keys().cloned().collect::<Vec<_>>().len() == count
        && declared.iter().all(|name| names.get(name) == Some(&1));
    ensure!(
        exactly_declared,
        "the server does not hold exactly the declared registries"
    );
    let mut figures = Figures {
        created: names.len(),
        duplicates: duplicates(&names),
        note: format!(
            "SIGINT sent to Terraform's process group with {at_interrupt} registries on the server; Terraform exited with code {:?} leaving {after_interrupt} on the server and {state_count} in its state (no create lost); the second apply finished the rest: the server holds exactly the {count} declared registries, each once.",
            interrupted.status.code()
        ),
        ..Figures::default()
    };
    figures.non_empty_plans = usize::from(scenario.plan_has_changes()?);
    figures.left_after_destroy = scenario.destroy()?;
    figures.wall = started.elapsed();
    figures.retries = scenario.retries();
    figures.injected = scenario.injected();
    Ok(figures)
}

/// How many resources the state holds, from `terraform state list`.
fn state_resource_count(scenario: &Scenario) -> Result<usize> {
    let output = scenario
        .command(&["state", "list"])
        .stdout(Stdio::piped())
        .output()
        .context("running terraform state list")?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .count())
}
