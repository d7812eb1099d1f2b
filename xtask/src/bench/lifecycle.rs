//! Items 2, 3 and 5 of the benchmark: `plan`, `apply` and `destroy` of N `runai_registry` against the
//! emulator next to N `null_resource` (Terraform's floor), the same apply with latency next to the bound
//! that latency implies, and the provider's memory and CPU time during the biggest apply.
//!
//! Besides the plain `null_resource` floor that the targets use, each count is also run with two floors
//! of `null_resource`s that carry data in `triggers`: exactly the registry's arguments (the same
//! configuration, password from the same sensitive variable), and all of a registry's attribute values
//! (the same state size). Terraform 1.0 rewrites the whole state file after every resource it changes, so
//! its own work grows with the count times the size of each resource's state; these floors separate
//! Terraform's share of a gap from the provider's, and show when a target is out of any provider's reach.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use runai_emulator::{Faults, RunningEmulator};

use super::memory::SampledPeak;
use super::report::{self, cpu_seconds, mebibytes, median, median_seconds, seconds, Row};
use super::workspace::{self, Terraform, PARALLELISM};
use super::{Interruption, Repetitions};

/// The resource counts of item 2.
const COUNTS: [usize; 2] = [100, 500];

/// The count whose apply is sampled for item 5.
const SAMPLED_COUNT: usize = 500;

/// Item 3: the added latency per asset call, the number of registries, and Terraform's parallelism.
const LATENCY_MS: u64 = 50;
const LATENCY_COUNT: usize = 100;
const PARALLEL_OPERATIONS: u64 = 10;

/// Which configuration a working directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// N `runai_registry`.
    Runai,
    /// N bare `null_resource`: Terraform's floor.
    Null,
    /// N `null_resource` that hold exactly a registry's arguments.
    SameConfigurationNull,
    /// N `null_resource` whose state is as large as a registry's.
    SameStateNull,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Null,
        Kind::SameConfigurationNull,
        Kind::SameStateNull,
        Kind::Runai,
    ];

    fn configuration(self, count: usize) -> String {
        match self {
            Kind::Runai => workspace::registries_configuration(count),
            Kind::Null => workspace::null_resources_configuration(count),
            Kind::SameConfigurationNull => workspace::same_configuration_null_configuration(count),
            Kind::SameStateNull => workspace::same_state_null_configuration(count),
        }
    }

    fn directory(self, work: &Path, count: usize) -> PathBuf {
        let name = match self {
            Kind::Runai => "runai",
            Kind::Null => "null",
            Kind::SameConfigurationNull => "null-same-configuration",
            Kind::SameStateNull => "null-same-state",
        };
        work.join(format!("{name}-{count}"))
    }
}

/// The Terraform commands item 2 times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Plan,
    Apply,
    Destroy,
}

impl Command {
    const ALL: [Command; 3] = [Command::Plan, Command::Apply, Command::Destroy];

    fn name(self) -> &'static str {
        match self {
            Command::Plan => "plan",
            Command::Apply => "apply",
            Command::Destroy => "destroy",
        }
    }
}

/// How a floor is named in the table, after its count.
fn floor_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null_resource",
        Kind::SameConfigurationNull => {
            "null_resource holding only a registry's arguments in `triggers` (same configuration)"
        }
        Kind::SameStateNull => {
            "null_resource with a registry's attribute values in `triggers` (same state size)"
        }
        Kind::Runai => "runai_registry",
    }
}

/// The timings of one configuration.
#[derive(Default)]
struct Timings {
    plan: Vec<Duration>,
    apply: Vec<Duration>,
    destroy: Vec<Duration>,
}

/// What items 2 and 5 measured.
pub struct Lifecycle {
    timings: BTreeMap<(Kind, usize), Timings>,
    /// The sampled apply of [`SAMPLED_COUNT`] registries, and of as many bare `null_resource`.
    runai_sample: SampledPeak,
    null_sample: SampledPeak,
}

impl Lifecycle {
    /// Times every configuration `repetitions.terraform` times, round by round so that drift in the
    /// machine's speed hits every configuration alike, then samples the biggest applies.
    pub fn measure(
        terraform: &Terraform,
        emulator: &RunningEmulator,
        work: &Path,
        repetitions: Repetitions,
        interruption: &Interruption,
    ) -> Result<Lifecycle> {
        for count in COUNTS {
            for kind in Kind::ALL {
                terraform.prepare(&kind.directory(work, count), &kind.configuration(count))?;
            }
        }
        let mut timings: BTreeMap<(Kind, usize), Timings> = BTreeMap::new();
        for _round in 0..repetitions.terraform {
            for count in COUNTS {
                for kind in Kind::ALL {
                    interruption.check()?;
                    let directory = kind.directory(work, count);
                    let timings = timings.entry((kind, count)).or_default();
                    timings.plan.push(terraform.timed(
                        &directory,
                        &["plan", "-no-color", "-input=false", PARALLELISM],
                        &workspace::plan_summary(count),
                    )?);
                    timings.apply.push(apply(terraform, &directory, count)?);
                    check_registries(emulator, kind, count)?;
                    timings.destroy.push(destroy(terraform, &directory, count)?);
                    check_registries(emulator, kind, 0)?;
                }
            }
        }

        let mut samples = Vec::new();
        for kind in [Kind::Runai, Kind::Null] {
            interruption.check()?;
            let directory = kind.directory(work, SAMPLED_COUNT);
            let (_, sample) = terraform.sampled(
                &directory,
                &[
                    "apply",
                    "-no-color",
                    "-input=false",
                    "-auto-approve",
                    PARALLELISM,
                ],
                &workspace::apply_summary(SAMPLED_COUNT),
            )?;
            check_registries(emulator, kind, SAMPLED_COUNT)?;
            destroy(terraform, &directory, SAMPLED_COUNT)?;
            samples.push(sample);
        }
        Ok(Lifecycle {
            timings,
            runai_sample: samples[0],
            null_sample: samples[1],
        })
    }

    /// Item 2: each command next to the floor (with the target), then next to the same-configuration and
    /// the same-state floors.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for count in COUNTS {
            for command in Command::ALL {
                let Some(ours) = self.median(Kind::Runai, count, command) else {
                    continue;
                };
                let measurement = format!("`terraform {}`, {count} resources", command.name());
                for (kind, target) in [
                    (Kind::Null, Some(report::FLOOR_MARGIN)),
                    (Kind::SameConfigurationNull, None),
                    (Kind::SameStateNull, None),
                ] {
                    let Some(floor) = self.median(kind, count, command) else {
                        continue;
                    };
                    rows.push(Row::compared(
                        2,
                        measurement.clone(),
                        (ours, seconds(ours)),
                        (
                            floor,
                            format!("{count} {}: {}", floor_label(kind), seconds(floor)),
                        ),
                        target,
                    ));
                }
            }
        }
        rows
    }

    /// Why a missed item-2 target is out of any provider's reach, when it is: Terraform alone, given the
    /// registries' configuration and a provider that does no work, already takes longer than the target
    /// allows. One sentence per such command and count.
    pub fn out_of_reach(&self) -> Vec<String> {
        let mut findings = Vec::new();
        for count in COUNTS {
            for command in Command::ALL {
                let (Some(ours), Some(bare), Some(same_configuration)) = (
                    self.median(Kind::Runai, count, command),
                    self.median(Kind::Null, count, command),
                    self.median(Kind::SameConfigurationNull, count, command),
                ) else {
                    continue;
                };
                let target = report::FLOOR_MARGIN.limit;
                if ours / bare > target && same_configuration / bare > target {
                    findings.push(format!(
                        "Item 2, `terraform {}` of {count}: Terraform alone, with {count} `null_resource` holding \
                         only the registries' arguments and a provider that does no work, takes {} = {:.2}× \
                         the bare floor of {}, beyond the {target}× target before any provider work; this \
                         provider takes {:.2}× that same-configuration floor.",
                        command.name(),
                        seconds(same_configuration),
                        same_configuration / bare,
                        seconds(bare),
                        ours / same_configuration,
                    ));
                }
            }
        }
        findings
    }

    /// The median time of `command` for `count` resources of `kind`, in seconds.
    fn median(&self, kind: Kind, count: usize, command: Command) -> Option<f64> {
        let timings = self.timings.get(&(kind, count))?;
        let samples = match command {
            Command::Plan => &timings.plan,
            Command::Apply => &timings.apply,
            Command::Destroy => &timings.destroy,
        };
        (!samples.is_empty()).then(|| median_seconds(samples))
    }

    /// Item 5: the peak memory against the null provider's (with the target), then private memory and
    /// CPU time for context.
    pub fn memory_rows(&self) -> Vec<Row> {
        let (ours, null) = (&self.runai_sample, &self.null_sample);
        let null_label = format!("null 2.1.2, {SAMPLED_COUNT} null_resource");
        let during = format!("during the {SAMPLED_COUNT}-resource apply");
        vec![
            Row::compared(
                5,
                format!("Peak resident memory {during} (VmHWM)"),
                (ours.peak_kib as f64, mebibytes(ours.peak_kib as f64)),
                (
                    null.peak_kib as f64,
                    format!("{null_label}: {}", mebibytes(null.peak_kib as f64)),
                ),
                Some(report::A_THIRD),
            ),
            Row::compared(
                5,
                format!("Peak private memory {during} (RssAnon, sampled)"),
                (ours.private_kib as f64, mebibytes(ours.private_kib as f64)),
                (
                    null.private_kib as f64,
                    format!("{null_label}: {}", mebibytes(null.private_kib as f64)),
                ),
                None,
            ),
            Row::compared(
                5,
                format!("Provider CPU time {during} (user + system)"),
                (ours.cpu_seconds, cpu_seconds(ours.cpu_seconds)),
                (
                    null.cpu_seconds,
                    format!("{null_label}: {}", cpu_seconds(null.cpu_seconds)),
                ),
                None,
            ),
        ]
    }

    /// The median apply time of the bare `null_resource` for `count` resources.
    fn null_apply(&self, count: usize) -> Option<f64> {
        self.median(Kind::Null, count, Command::Apply)
    }

    /// Item 3: the 100-registry apply with latency, against the bound the latency implies: the whole
    /// command, the window in which its asset calls were in flight (first arrival to last answer, at the
    /// emulator), and the whole command against the bound plus Terraform's own time for the same graph.
    /// The second value says why the whole command's target is out of reach, when it is.
    pub fn latency_rows(
        &self,
        terraform: &Terraform,
        emulator: &RunningEmulator,
        work: &Path,
        repetitions: Repetitions,
        interruption: &Interruption,
    ) -> Result<(Vec<Row>, Vec<String>)> {
        let directory = Kind::Runai.directory(work, LATENCY_COUNT);
        let latency = Faults {
            latency_min_ms: LATENCY_MS,
            latency_max_ms: LATENCY_MS,
            ..Faults::default()
        };
        let mut applies = Vec::new();
        let mut windows = Vec::new();
        let mut calls = Vec::new();
        for _round in 0..repetitions.terraform {
            interruption.check()?;
            emulator.emulator.set_faults(latency.clone());
            let before = asset_calls(&emulator.emulator.stats());
            // Taking the window starts a new one, so the next take spans this apply's calls only.
            emulator.emulator.take_asset_window();
            let outcome = apply(terraform, &directory, LATENCY_COUNT);
            let window = emulator.emulator.take_asset_window();
            let after = asset_calls(&emulator.emulator.stats());
            // The clean-up is not measured, so it runs without the latency.
            emulator.emulator.set_faults(Faults::default());
            applies.push(outcome?);
            windows.push(window.context("the apply made no asset call")?);
            calls.push((after - before) as f64);
            check_registries(emulator, Kind::Runai, LATENCY_COUNT)?;
            destroy(terraform, &directory, LATENCY_COUNT)?;
        }
        let null_apply = self
            .null_apply(LATENCY_COUNT)
            .context("item 2 did not time the null apply that item 3 needs")?;
        let null_plan = self
            .median(Kind::Null, LATENCY_COUNT, Command::Plan)
            .context("item 2 did not time the null plan that item 3 needs")?;
        Ok(LatencyFigures {
            apply: median_seconds(&applies),
            window: median_seconds(&windows),
            calls: median(&calls),
            null_apply,
            null_plan,
        }
        .rows_and_findings())
    }
}

/// The medians item 3 measured, in seconds but `calls`, with the figures of item 2 it is compared with.
struct LatencyFigures {
    /// The whole `terraform apply` with latency.
    apply: f64,
    /// Its asset calls, from the first arrival to the last answer at the emulator.
    window: f64,
    calls: f64,
    /// `terraform apply` and `terraform plan` of as many bare `null_resource`, without latency.
    null_apply: f64,
    null_plan: f64,
}

impl LatencyFigures {
    /// The rows of item 3, each figure first against the ideal (with the target) and then against the ideal
    /// plus Terraform's own share; and, when the whole apply misses its target because Terraform alone
    /// takes longer than the target allows, the sentence that says so.
    fn rows_and_findings(&self) -> (Vec<Row>, Vec<String>) {
        let LatencyFigures {
            apply,
            window,
            calls,
            null_apply,
            null_plan,
        } = *self;
        let ideal = calls * LATENCY_MS as f64 / 1000.0 / PARALLEL_OPERATIONS as f64;
        // The apply walk alone: what `apply` adds to the `plan` it starts with.
        let null_walk = (null_apply - null_plan).max(0.0);
        let ideal_text = format!(
            "ideal: {calls:.0} calls × {LATENCY_MS} ms / {PARALLEL_OPERATIONS} = {}",
            seconds(ideal)
        );
        let measurement = format!(
            "`terraform apply`, {LATENCY_COUNT} registries, {LATENCY_MS} ms per call, `-parallelism={PARALLEL_OPERATIONS}`"
        );
        let window_measurement =
            format!("{measurement}: its asset calls, first arrival to last answer");
        let rows = vec![
            Row::compared(
                3,
                measurement.clone(),
                (apply, seconds(apply)),
                (ideal, ideal_text.clone()),
                Some(report::IDEAL_MARGIN),
            ),
            Row::compared(
                3,
                measurement,
                (apply, seconds(apply)),
                (
                    ideal + null_apply,
                    format!(
                        "ideal + Terraform's own time ({LATENCY_COUNT} null_resource apply, {}) = {}",
                        seconds(null_apply),
                        seconds(ideal + null_apply)
                    ),
                ),
                None,
            ),
            Row::compared(
                3,
                window_measurement.clone(),
                (window, seconds(window)),
                (ideal, ideal_text),
                Some(report::IDEAL_MARGIN),
            ),
            Row::compared(
                3,
                window_measurement,
                (window, seconds(window)),
                (
                    ideal + null_walk,
                    format!(
                        "ideal + Terraform's own apply walk ({LATENCY_COUNT} null_resource, apply − plan, {}) = {}",
                        seconds(null_walk),
                        seconds(ideal + null_walk)
                    ),
                ),
                None,
            ),
        ];
        let target = report::IDEAL_MARGIN.limit;
        let mut findings = Vec::new();
        if apply / ideal > target && null_apply / ideal > target {
            findings.push(format!(
                "Item 3, the whole `terraform apply`: Terraform's own apply of {LATENCY_COUNT} `null_resource`, \
                 with no latency and a provider that does no work, takes {} = {:.2}× the ideal of {}, beyond \
                 the {target}× target before a single call; the bound counts only the calls.",
                seconds(null_apply),
                null_apply / ideal,
                seconds(ideal),
            ));
        }
        (rows, findings)
    }
}

/// A timed `terraform apply` of `count` new resources.
fn apply(terraform: &Terraform, directory: &Path, count: usize) -> Result<Duration> {
    terraform.timed(
        directory,
        &[
            "apply",
            "-no-color",
            "-input=false",
            "-auto-approve",
            PARALLELISM,
        ],
        &workspace::apply_summary(count),
    )
}

/// A timed `terraform destroy` of `count` resources.
fn destroy(terraform: &Terraform, directory: &Path, count: usize) -> Result<Duration> {
    terraform.timed(
        directory,
        &[
            "destroy",
            "-no-color",
            "-input=false",
            "-auto-approve",
            PARALLELISM,
        ],
        &workspace::destroy_summary(count),
    )
}

/// Checks that the emulator holds `expected` registries after a runai command, so a run that did less
/// than it claims can never produce a figure.
fn check_registries(emulator: &RunningEmulator, kind: Kind, expected: usize) -> Result<()> {
    if kind == Kind::Runai {
        let held = emulator.emulator.registries().len();
        ensure!(
            held == expected,
            "the emulator holds {held} registries, but {expected} were expected"
        );
    }
    Ok(())
}

/// The asset calls the emulator counted: every operation but the token exchange, which gets no
/// injected latency.
fn asset_calls(stats: &serde_json::Value) -> u64 {
    stats["operations"]
        .as_object()
        .map(|operations| {
            operations
                .iter()
                .filter(|(name, _)| name.as_str() != "token")
                .filter_map(|(_, count)| count.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_calls_leave_out_the_token_exchange() {
        let stats = serde_json::json!({
            "total_requests": 203,
            "operations": {
                "create_registry": 100,
                "get_registry_by_id": 100,
                "delete_registry": 0,
                "token": 3,
            }
        });
        assert_eq!(asset_calls(&stats), 200);
        assert_eq!(asset_calls(&serde_json::json!({})), 0);
    }

    #[test]
    fn every_kind_has_its_own_directory_and_configuration() {
        let work = Path::new("/work");
        let directories: Vec<PathBuf> = Kind::ALL
            .iter()
            .map(|kind| kind.directory(work, 100))
            .collect();
        assert_eq!(
            directories,
            [
                Path::new("/work/null-100"),
                Path::new("/work/null-same-configuration-100"),
                Path::new("/work/null-same-state-100"),
                Path::new("/work/runai-100"),
            ]
        );
        assert!(Kind::Runai.configuration(3).contains("runai_registry"));
        assert!(Kind::SameStateNull.configuration(3).contains("triggers"));
        assert!(Kind::SameConfigurationNull
            .configuration(3)
            .contains("triggers"));
        assert!(!Kind::Null.configuration(3).contains("triggers"));
    }

    fn timings(seconds: &[u64]) -> Timings {
        let durations: Vec<Duration> = seconds.iter().map(|s| Duration::from_secs(*s)).collect();
        Timings {
            plan: durations.clone(),
            apply: durations.clone(),
            destroy: durations,
        }
    }

    fn lifecycle(runai: &[u64], null: &[u64], same_configuration: &[u64]) -> Lifecycle {
        let mut all = BTreeMap::new();
        for count in COUNTS {
            all.insert((Kind::Runai, count), timings(runai));
            all.insert((Kind::Null, count), timings(null));
            all.insert(
                (Kind::SameConfigurationNull, count),
                timings(same_configuration),
            );
            all.insert((Kind::SameStateNull, count), timings(&[3, 3, 3]));
        }
        Lifecycle {
            timings: all,
            runai_sample: SampledPeak::default(),
            null_sample: SampledPeak::default(),
        }
    }

    #[test]
    fn rows_compare_medians_with_the_three_floors() {
        let lifecycle = lifecycle(&[3, 9, 3], &[2, 2, 2], &[2, 3, 3]);
        let rows = lifecycle.rows();
        assert_eq!(rows.len(), COUNTS.len() * 3 * 3);
        // The median ignores the one slow run: 3 s against 2 s fails the 1.25 target.
        assert_eq!(rows[0].ratio, Some(1.5));
        assert_eq!(rows[0].verdict(), "fail");
        assert!(rows[0].compared_with.starts_with("100 null_resource: "));
        assert_eq!(rows[1].ratio, Some(1.0));
        assert_eq!(rows[1].verdict(), "—");
        assert!(rows[1].compared_with.contains("(same configuration)"));
        assert!(rows[2].compared_with.contains("(same state size)"));
        assert_eq!(lifecycle.null_apply(100), Some(2.0));
    }

    #[test]
    fn a_missed_target_is_out_of_reach_only_when_the_same_configuration_floor_misses_it_too() {
        // Terraform alone takes 1.5 times the bare floor: every missed target is out of reach.
        let unreachable = lifecycle(&[3, 3, 3], &[2, 2, 2], &[3, 3, 3]);
        let findings = unreachable.out_of_reach();
        assert_eq!(findings.len(), COUNTS.len() * 3);
        assert!(
            findings[0].contains("`terraform plan` of 100"),
            "{}",
            findings[0]
        );
        assert!(
            findings[0].contains("= 1.50× the bare floor"),
            "{}",
            findings[0]
        );
        assert!(findings[0].contains("1.00× that same-configuration floor"));
        // The floor alone is within the target, so the miss is the provider's own: no excuse.
        assert!(lifecycle(&[3, 3, 3], &[2, 2, 2], &[2, 2, 2])
            .out_of_reach()
            .is_empty());
        // A met target needs no explanation.
        assert!(lifecycle(&[2, 2, 2], &[2, 2, 2], &[3, 3, 3])
            .out_of_reach()
            .is_empty());
    }

    #[test]
    fn latency_rows_compare_the_command_and_its_call_window_with_the_ideal() {
        // 100 calls × 50 ms / 10 = 0.5 s; Terraform's apply walk is 0.7 − 0.4 = 0.3 s.
        let figures = LatencyFigures {
            apply: 1.0,
            window: 0.55,
            calls: 100.0,
            null_apply: 0.7,
            null_plan: 0.4,
        };
        let (rows, findings) = figures.rows_and_findings();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].ratio, Some(2.0));
        assert_eq!(rows[0].verdict(), "fail");
        assert!(rows[1].compared_with.ends_with("= 1.20 s"));
        assert_eq!(rows[1].verdict(), "—");
        assert!(rows[2]
            .measurement
            .ends_with("first arrival to last answer"));
        assert!((rows[2].ratio.unwrap() - 1.1).abs() < 1e-9);
        assert_eq!(rows[2].verdict(), "pass");
        assert!(rows[3]
            .compared_with
            .contains("apply − plan, 0.30 s) = 0.80 s"));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].contains("takes 0.70 s = 1.40× the ideal of 0.50 s"));

        // When Terraform's own time fits in the target, a miss is not excused.
        let (_, findings) = LatencyFigures {
            null_apply: 0.5,
            ..figures
        }
        .rows_and_findings();
        assert!(findings.is_empty());
    }
}
