//! `cargo xtask test`: the project's one test command, run by developers and by CI (`.ci/run`).
//!
//! It runs `setup` and then a fixed list of steps, streaming their output and stopping at the first
//! failure. New checks are added as entries of that list in [`steps`].

use std::process::Command;

use anyhow::{Context, Result};

use crate::paths;
use crate::process::{self, announce};
use crate::setup::{self, Tools};

/// One check: a name for the progress lines and the command that performs it.
struct Step {
    name: &'static str,
    command: Command,
}

/// Runs every step in order and stops at the first one that fails.
pub fn test() -> Result<()> {
    let tools = setup::setup()?;
    let steps = steps(&tools);
    let count = steps.len();
    for (index, mut step) in steps.into_iter().enumerate() {
        announce(&format!(
            "test: step {} of {count}: {}",
            index + 1,
            step.name
        ));
        process::run(step.command.current_dir(paths::workspace_root()))
            .with_context(|| format!("test step {:?} failed", step.name))?;
    }
    announce(&format!("test: all {count} steps passed"));
    Ok(())
}

/// The checks, in the order they run: the cheapest first, so a formatting slip fails in seconds.
/// The last three are xtask's own commands, run through this very binary.
fn steps(tools: &Tools) -> Vec<Step> {
    let mut formatting = process::cargo();
    formatting.args(["fmt", "--all", "--", "--check"]);

    let mut lints = process::cargo();
    lints.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);

    // The provider's acceptance tests read these two variables to find the real binaries they drive.
    let mut tests = process::cargo();
    tests
        .args(["test", "--workspace", "--all-features"])
        .env("RUNAI_TEST_TERRAFORM", &tools.terraform)
        .env("RUNAI_TEST_DOCKER_REGISTRY", &tools.docker_registry);

    vec![
        Step {
            name: "formatting (cargo fmt)",
            command: formatting,
        },
        Step {
            name: "lints (cargo clippy)",
            command: lints,
        },
        Step {
            name: "tests (cargo test)",
            command: tests,
        },
        Step {
            name: "generated docs match the schema (xtask docs --check)",
            command: xtask(&["docs", "--check"]),
        },
        Step {
            name: "examples are fmt-clean and valid (xtask examples-check)",
            command: xtask(&["examples-check"]),
        },
        Step {
            name: "release artifacts install through terraform init (xtask release-check)",
            command: xtask(&["release-check"]),
        },
    ]
}

/// A command that runs this xtask binary again with `args`, so a step needs no second build.
fn xtask(args: &[&str]) -> Command {
    let binary = std::env::current_exe().unwrap_or_else(|_| "xtask".into());
    let mut command = Command::new(binary);
    command.args(args);
    command
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn tests_receive_the_paths_of_terraform_and_docker_registry() {
        let tools = Tools {
            terraform: PathBuf::from("/tools/terraform-1.0.3/terraform"),
            docker_registry: PathBuf::from("/usr/bin/docker-registry"),
        };
        let steps = steps(&tools);
        let test_step = steps
            .iter()
            .find(|step| step.command.get_args().any(|arg| arg == "test"))
            .unwrap();
        let environment: Vec<_> = test_step.command.get_envs().collect();
        assert!(environment.contains(&(
            "RUNAI_TEST_TERRAFORM".as_ref(),
            Some("/tools/terraform-1.0.3/terraform".as_ref())
        )));
        assert!(environment.contains(&(
            "RUNAI_TEST_DOCKER_REGISTRY".as_ref(),
            Some("/usr/bin/docker-registry".as_ref())
        )));
    }

    #[test]
    fn formatting_runs_before_lints_and_lints_before_tests() {
        let tools = Tools {
            terraform: PathBuf::from("terraform"),
            docker_registry: PathBuf::from("registry"),
        };
        let subcommands: Vec<String> = steps(&tools)
            .iter()
            .map(|step| {
                step.command
                    .get_args()
                    .next()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            subcommands,
            [
                "fmt",
                "clippy",
                "test",
                "docs",
                "examples-check",
                "release-check"
            ]
        );
    }
}
