//! `cargo xtask bench`: the performance figures of issue 6, side by side with Go providers, all measured in
//! one run on this machine and written to `BENCHMARKS.md` with the facts of the machine.
//!
//! 1. Start to handshake and memory after the schema is served, against two Go providers (`startup`).
//! 2. `plan`/`apply`/`destroy` of 100 and 500 `runai_registry` against the emulator, next to as many
//!    `null_resource`: Terraform's own floor (`lifecycle`).
//! 3. The 100-registry apply with 50 ms of latency per call, next to the bound that latency implies
//!    (`lifecycle`).
//! 4. The two data sources on a registry with 10,000 repositories and 10,000 tags (`listing`, on the
//!    registry of `big_registry`).
//! 5. The provider's peak memory during the 500-registry apply (`lifecycle`, sampled by `memory`).
//!
//! The Go peers come from PyPI (`peers`); Terraform runs through `workspace`; the table and the page are
//! built by `report`. Everything runs in `target/bench/`, which is recreated on every run; the emulator,
//! the registry and every started provider stop when their handles drop, on every way out, Ctrl-C too.

mod big_registry;
mod lifecycle;
mod listing;
mod memory;
mod peers;
mod report;
mod startup;
mod workspace;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, ensure, Context, Result};
use runai_emulator::{spawn_in_background, EmulatorConfig};

use crate::build::{self, Profile};
use crate::paths;
use crate::process::{self, announce};
use crate::setup;
use report::{mebibytes, median, median_seconds, milliseconds, Row};
use workspace::Terraform;

/// The password of the registries of items 2 and 3; they point at a registry nobody contacts.
const UNUSED_PASSWORD: &str = "bench-password";

/// The peers of item 1, as the table names them, in the order [`startup_rows`] measures them.
const PEER_NAMES: [&str; 2] = [
    "workato 0.16.0 (Go, plugin framework v1.19)",
    "null 2.1.2 (Go, Terraform 0.12 SDK)",
];

/// How many times each figure is measured.
#[derive(Clone, Copy, Debug)]
pub struct Repetitions {
    pub startup: usize,
    pub terraform: usize,
}

impl Repetitions {
    fn new(quick: bool) -> Repetitions {
        if quick {
            Repetitions {
                startup: 2,
                terraform: 1,
            }
        } else {
            Repetitions {
                startup: 5,
                terraform: 3,
            }
        }
    }
}

/// Ctrl-C sets a flag that the long loops check, so the benchmark ends through its normal error path and
/// every handle (emulator, registry, providers) drops and stops what it started. Terraform gets the
/// signal itself.
pub struct Interruption(Arc<AtomicBool>);

impl Interruption {
    fn install() -> Result<Interruption> {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
        Ok(Interruption(flag))
    }

    fn happened(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Fails once Ctrl-C was pressed.
    pub fn check(&self) -> Result<()> {
        if self.happened() {
            bail!("interrupted");
        }
        Ok(())
    }
}

/// Runs the whole benchmark; with `quick`, fewer repetitions (the sizes stay the same) and the page goes
/// to `target/bench/` instead of replacing `BENCHMARKS.md`.
pub fn bench(quick: bool) -> Result<()> {
    ensure!(
        cfg!(all(target_os = "linux", target_arch = "x86_64")),
        "the benchmark runs on linux_amd64 only: the Go peers are Linux binaries and memory is read from /proc"
    );
    let interruption = Interruption::install()?;
    let outcome = run(quick, &interruption);
    // After Ctrl-C the failing step's own error (say, Terraform's exit status) would only confuse.
    if interruption.happened() {
        bail!("interrupted by Ctrl-C");
    }
    outcome
}

fn run(quick: bool, interruption: &Interruption) -> Result<()> {
    let repetitions = Repetitions::new(quick);
    let load_before = report::load_average();
    let tools = setup::setup()?;
    let provider = build_provider()?;
    let peers = peers::install(&paths::tools_directory().join("bench"))?;
    let version = paths::provider_version()?;

    let directory = paths::target_directory().join("bench");
    if directory.exists() {
        fs::remove_dir_all(&directory)
            .with_context(|| format!("removing {}", directory.display()))?;
    }
    let temporary = directory.join("tmp");
    fs::create_dir_all(&temporary).with_context(|| format!("creating {}", temporary.display()))?;
    let cli_config = workspace::write_mirror(
        &directory,
        &[
            workspace::MirroredProvider {
                address: "registry.terraform.io/runai/runai",
                version: &version,
                binary: &provider,
                file_name: format!("terraform-provider-runai_v{version}"),
            },
            workspace::MirroredProvider {
                address: peers::NULL.address,
                version: peers::NULL.version,
                binary: &peers.null,
                file_name: peers::NULL.binary_name.to_owned(),
            },
        ],
    )?;

    announce("bench: starting the Run:ai emulator");
    let emulator_config = EmulatorConfig::default();
    let mut terraform = Terraform::new(&tools.terraform, &cli_config, &temporary);
    terraform.set_env("RUNAI_CLIENT_ID", &emulator_config.client_id);
    terraform.set_env("RUNAI_CLIENT_SECRET", &emulator_config.client_secret);
    terraform.set_env("TF_VAR_registry_password", UNUSED_PASSWORD);
    let emulator = spawn_in_background(emulator_config).context("starting the emulator")?;
    terraform.set_env("RUNAI_BASE_URL", &emulator.base_url);

    let mut rows = Vec::new();
    announce("bench: item 1, provider start and memory after the schema is served");
    rows.extend(startup_rows(
        &provider,
        &peers,
        &terraform,
        &directory.join("startup"),
        repetitions,
        interruption,
    )?);

    announce("bench: items 2 and 5, plan, apply and destroy next to Terraform's floor");
    let work = directory.join("work");
    let lifecycle =
        lifecycle::Lifecycle::measure(&terraform, &emulator, &work, repetitions, interruption)?;
    rows.extend(lifecycle.rows());
    let mut out_of_reach = lifecycle.out_of_reach();

    announce("bench: item 3, apply with 50 ms of latency per call");
    let (latency_rows, latency_out_of_reach) =
        lifecycle.latency_rows(&terraform, &emulator, &work, repetitions, interruption)?;
    rows.extend(latency_rows);
    out_of_reach.extend(latency_out_of_reach);

    announce("bench: item 4, the data sources on a big registry");
    rows.extend(listing::rows(
        &mut terraform,
        &work,
        repetitions,
        interruption,
    )?);
    rows.extend(lifecycle.memory_rows());
    drop(emulator);
    // Killed Go plugins leave their sockets behind; nothing else uses the directory.
    let _ = fs::remove_dir_all(&temporary);

    let table = report::table(&rows);
    let machine = report::Machine::read();
    let revision = revision();
    let load = format!(
        "{load_before} before the run, {} after",
        report::load_average()
    );
    let page = report::document(
        &table,
        &out_of_reach,
        &report::Context {
            command: if quick {
                "cargo xtask bench --quick"
            } else {
                "cargo xtask bench"
            },
            machine: &machine,
            load: &load,
            revision: &revision,
            terraform_version: paths::TERRAFORM_VERSION,
            startup_runs: repetitions.startup,
            terraform_runs: repetitions.terraform,
        },
    );
    let page_path = if quick {
        directory.join("BENCHMARKS.md")
    } else {
        paths::workspace_root().join("BENCHMARKS.md")
    };
    fs::write(&page_path, page).with_context(|| format!("writing {}", page_path.display()))?;
    println!("\n{table}");
    for finding in &out_of_reach {
        println!("{finding}\n");
    }
    announce(&format!("bench: wrote {}", page_path.display()));
    Ok(())
}

/// Builds the provider's release binary, the one users get.
fn build_provider() -> Result<PathBuf> {
    build::provider("bench", Profile::Release)
}

/// The commit the figures belong to, marked `-dirty` when the working tree has changes other than the
/// page this command writes (a re-run would otherwise always call its own build dirty).
fn revision() -> String {
    let git = |arguments: &[&str]| {
        process::output(
            std::process::Command::new("git")
                .args(arguments)
                .current_dir(paths::workspace_root()),
        )
    };
    let Ok(commit) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".into();
    };
    let changes = git(&[
        "status",
        "--porcelain",
        "--",
        ".",
        ":(exclude)BENCHMARKS.md",
    ]);
    with_dirty_mark(commit.trim(), changes.as_deref().map(str::trim))
}

/// `commit`, followed by `-dirty` when `changes` (Git's porcelain status) lists any, or could not be read.
fn with_dirty_mark(commit: &str, changes: Result<&str, &anyhow::Error>) -> String {
    match changes {
        Ok("") => commit.to_owned(),
        _ => format!("{commit}-dirty"),
    }
}

/// A count with thousands separators, such as `10,000`, for the table's text.
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Formats a figure for the table, such as [`milliseconds`].
type Formatter = fn(f64) -> String;

/// Item 1 for this provider and both peers: start to handshake and resident memory against each peer
/// (with the target), then private memory for context.
fn startup_rows(
    provider: &Path,
    peers: &peers::Peers,
    terraform: &Terraform,
    directory: &Path,
    repetitions: Repetitions,
    interruption: &Interruption,
) -> Result<Vec<Row>> {
    let plugins = [
        startup::Plugin {
            binary: provider.to_path_buf(),
            address: "registry.terraform.io/runai/runai".into(),
        },
        startup::Plugin {
            binary: peers.workato.clone(),
            address: peers::WORKATO.address.into(),
        },
        startup::Plugin {
            binary: peers.null.clone(),
            address: peers::NULL.address.into(),
        },
    ];
    let figures = startup::measure(
        &plugins,
        terraform,
        directory,
        repetitions.startup,
        interruption,
    )?;
    let handshake: Vec<f64> = figures
        .iter()
        .map(|figures| median_seconds(&figures.handshake))
        .collect();
    let memory_median = |pick: fn(&memory::MemoryStatus) -> u64| -> Vec<f64> {
        figures
            .iter()
            .map(|figures| {
                median(
                    &figures
                        .memory
                        .iter()
                        .map(|status| pick(status) as f64)
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    };
    let resident = memory_median(|status| status.resident_kib);
    let private = memory_median(|status| status.private_kib);

    let mut rows = Vec::new();
    let measurements: [(&str, &[f64], Formatter, bool); 3] = [
        ("Start to handshake", &handshake, milliseconds, true),
        (
            "Resident memory after the schema is served (VmRSS)",
            &resident,
            mebibytes,
            true,
        ),
        (
            "Private memory after the schema is served (RssAnon)",
            &private,
            mebibytes,
            false,
        ),
    ];
    for (measurement, values, format, has_target) in measurements {
        for (index, peer) in PEER_NAMES.iter().enumerate() {
            let reference = values[index + 1];
            rows.push(Row::compared(
                1,
                measurement,
                (values[0], format(values[0])),
                (reference, format!("{peer}: {}", format(reference))),
                has_target.then_some(report::A_THIRD),
            ));
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_is_dirty_when_git_lists_changes_or_cannot_tell() {
        assert_eq!(with_dirty_mark("abc1234", Ok("")), "abc1234");
        assert_eq!(
            with_dirty_mark("abc1234", Ok("M src/lib.rs")),
            "abc1234-dirty"
        );
        let failure = anyhow::anyhow!("git failed");
        assert_eq!(with_dirty_mark("abc1234", Err(&failure)), "abc1234-dirty");
    }

    #[test]
    fn quick_runs_repeat_less() {
        let full = Repetitions::new(false);
        let quick = Repetitions::new(true);
        assert_eq!((full.startup, full.terraform), (5, 3));
        assert!(quick.startup < full.startup && quick.terraform < full.terraform);
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(500), "500");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
