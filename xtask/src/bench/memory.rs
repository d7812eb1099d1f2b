//! Reads how much memory and CPU time a process uses from `/proc`, and follows the provider processes that
//! a Terraform command starts while it runs.
//!
//! Linux keeps the peak resident set size of every process in `VmHWM` ("high water mark"), so a sampler
//! does not have to catch the peak moment itself: any sample taken after the work is done holds it. The
//! sampler only has to see each provider process at least once near its end, which a short interval does.
//! The same holds for CPU time, which only grows.

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

/// How often the sampler looks at the provider processes. Every look scans `/proc`, which costs CPU on a
/// two-core machine, so the timed runs are never sampled; only dedicated runs are.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(10);

/// The kernel truncates a process's name (`comm`) to 15 bytes; every provider binary's name starts with
/// `terraform-provider-`, which leaves this prefix.
const PROVIDER_NAME_PREFIX: &str = "terraform-provi";

/// Memory figures of one process, in KiB, as `/proc/<pid>/status` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStatus {
    /// The resident set size right now (`VmRSS`): private memory plus the pages of mapped files, such as
    /// the program's code and the shared libraries it uses.
    pub resident_kib: u64,
    /// The largest resident set size the process has had (`VmHWM`).
    pub peak_kib: u64,
    /// The resident memory that belongs to this process alone (`RssAnon`): heap, stacks, written data.
    pub private_kib: u64,
}

/// Reads the memory figures of a running process.
pub fn read_status(pid: u32) -> Result<MemoryStatus> {
    let path = format!("/proc/{pid}/status");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&text).with_context(|| format!("{path} lacks VmRSS, VmHWM or RssAnon"))
}

/// Extracts `VmRSS`, `VmHWM` and `RssAnon` from the text of `/proc/<pid>/status`.
fn parse_status(text: &str) -> Option<MemoryStatus> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
    };
    Some(MemoryStatus {
        resident_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
        private_kib: field("RssAnon:")?,
    })
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, PartialEq, Eq)]
struct ProcessStat<'a> {
    name: &'a str,
    parent: u32,
    /// User plus system CPU time, in clock ticks.
    cpu_ticks: u64,
}

/// Parses the text of `/proc/<pid>/stat`. The name is in parentheses and may itself hold spaces and
/// parentheses, so the fields after it are counted from the last `)`.
fn parse_stat(text: &str) -> Option<ProcessStat<'_>> {
    let name_start = text.find('(')? + 1;
    let name_end = text.rfind(')')?;
    let name = text.get(name_start..name_end)?;
    // After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt,
    // cmajflt, utime, stime, ...
    let fields: Vec<&str> = text.get(name_end + 1..)?.split_whitespace().collect();
    let number = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some(ProcessStat {
        name,
        parent: u32::try_from(number(1)?).ok()?,
        cpu_ticks: number(11)? + number(12)?,
    })
}

/// The kernel's clock ticks per second, the unit of CPU times in `/proc`.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The provider processes that descend from `ancestor`, with their CPU ticks so far. Terraform runs its
/// real work in a child of itself (to report its own crashes), so providers are its grandchildren.
fn provider_descendants(ancestor: u32) -> Vec<(u32, u64)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let processes: Vec<(u32, String, u32, u64)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            // A process may exit between the listing and the read; it is simply skipped.
            let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let stat = parse_stat(&text)?;
            Some((pid, stat.name.to_owned(), stat.parent, stat.cpu_ticks))
        })
        .collect();
    let family: Vec<(u32, String, u32)> = processes
        .iter()
        .map(|(pid, name, parent, _)| (*pid, name.clone(), *parent))
        .collect();
    descendants_named(&family, ancestor, PROVIDER_NAME_PREFIX)
        .into_iter()
        .filter_map(|pid| {
            let (_, _, _, ticks) = processes.iter().find(|process| process.0 == pid)?;
            Some((pid, *ticks))
        })
        .collect()
}

/// The pids among `processes` (pid, name, parent pid) that descend from `ancestor` and whose name starts
/// with `prefix`.
fn descendants_named(processes: &[(u32, String, u32)], ancestor: u32, prefix: &str) -> Vec<u32> {
    let mut family = vec![ancestor];
    let mut index = 0;
    while index < family.len() {
        let parent = family[index];
        family.extend(
            processes
                .iter()
                .filter(|(pid, _, process_parent)| *process_parent == parent && *pid != parent)
                .map(|(pid, _, _)| *pid),
        );
        index += 1;
    }
    processes
        .iter()
        .filter(|(pid, name, _)| {
            *pid != ancestor && family.contains(pid) && name.starts_with(prefix)
        })
        .map(|(pid, _, _)| *pid)
        .collect()
}

/// What a [`PeakSampler`] saw of the provider processes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SampledPeak {
    /// The largest `VmHWM` of any provider process.
    pub peak_kib: u64,
    /// The largest `RssAnon` sampled from any provider process.
    pub private_kib: u64,
    /// The CPU time (user and system) of all provider processes together, in seconds.
    pub cpu_seconds: f64,
    /// How many different provider processes were seen (Terraform starts a provider several times per
    /// command: to validate, to plan, to apply).
    pub processes: usize,
}

/// Follows the provider processes started by one Terraform command, on a thread of its own.
pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<SampledPeak>,
}

impl PeakSampler {
    /// Starts sampling the provider processes that descend from the process `ancestor`.
    pub fn start(ancestor: u32) -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_requested = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = SampledPeak::default();
            // The last CPU ticks seen of each process; the sum at the end is their total.
            let mut ticks: BTreeMap<u32, u64> = BTreeMap::new();
            while !stop_requested.load(Ordering::SeqCst) {
                for (pid, cpu_ticks) in provider_descendants(ancestor) {
                    if let Ok(status) = read_status(pid) {
                        peak.peak_kib = peak.peak_kib.max(status.peak_kib);
                        peak.private_kib = peak.private_kib.max(status.private_kib);
                        ticks.insert(pid, cpu_ticks);
                    }
                }
                std::thread::sleep(SAMPLE_INTERVAL);
            }
            peak.processes = ticks.len();
            peak.cpu_seconds = ticks.values().sum::<u64>() as f64 / ticks_per_second();
            peak
        });
        PeakSampler { stop, thread }
    }

    /// Stops sampling and returns what was seen.
    pub fn finish(self) -> SampledPeak {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn parse_status_reads_resident_peak_and_private_memory() {
        let text = "Name:\tterraform-provi\nVmPeak:\t  100000 kB\nVmHWM:\t    6752 kB\nVmRSS:\t    6500 kB\nRssAnon:\t    2100 kB\nRssFile:\t    4400 kB\n";
        assert_eq!(
            parse_status(text),
            Some(MemoryStatus {
                resident_kib: 6500,
                peak_kib: 6752,
                private_kib: 2100,
            })
        );
        assert_eq!(
            parse_status("Name:\tkthreadd\nState:\tS (sleeping)\n"),
            None
        );
    }

    #[test]
    fn parse_stat_reads_parent_and_cpu_time_past_odd_names() {
        let line =
            "4242 (terraform-provi) S 4100 4242 4100 0 -1 4194560 1200 0 3 0 25 7 0 0 20 0 4";
        assert_eq!(
            parse_stat(line),
            Some(ProcessStat {
                name: "terraform-provi",
                parent: 4100,
                cpu_ticks: 32,
            })
        );
        let odd = "77 (odd) name (x)) R 12 77 12 0 -1 0 0 0 0 0 1 2 0 0";
        assert_eq!(parse_stat(odd).map(|stat| stat.name), Some("odd) name (x)"));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (short) S 0"), None);
    }

    #[test]
    fn descendants_include_grandchildren_and_nothing_outside_the_family() {
        let processes = [
            (10, "terraform".to_owned(), 1),
            (11, "terraform".to_owned(), 10),
            (12, "terraform-provi".to_owned(), 11),
            (13, "terraform-provi".to_owned(), 10),
            (20, "terraform-provi".to_owned(), 1),
            (21, "sh".to_owned(), 11),
        ];
        let mut found = descendants_named(&processes, 10, "terraform-provi");
        found.sort_unstable();
        assert_eq!(found, [12, 13]);
        assert!(descendants_named(&processes, 99, "terraform-provi").is_empty());
    }

    #[test]
    fn read_status_reads_this_process() {
        let status = read_status(std::process::id()).unwrap();
        assert!(status.resident_kib > 0);
        assert!(status.peak_kib >= status.resident_kib);
        assert!(status.private_kib > 0 && status.private_kib <= status.resident_kib);
    }

    #[test]
    fn the_sampler_follows_a_provider_grandchild_of_the_watched_process() {
        // The kernel names a process after the file it executes, so a link to `sh` called like a provider
        // makes a grandchild that must be found and whose busy loop must show up as CPU time; the shells
        // above it must not count.
        let scratch = tempfile::tempdir().unwrap();
        let fake_provider = scratch.path().join("terraform-provider-fake");
        std::os::unix::fs::symlink("/bin/sh", &fake_provider).unwrap();
        let busy = "i=0; while [ $i -lt 1000000 ]; do i=$((i + 1)); done";
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg("sh -c '\"$0\" -c \"$1\"' \"$0\" \"$1\"; true")
            .arg(&fake_provider)
            .arg(busy)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let sampler = PeakSampler::start(shell.id());
        shell.wait().unwrap();
        let peak = sampler.finish();
        assert_eq!(peak.processes, 1, "{peak:?}");
        assert!(peak.peak_kib > 0 && peak.private_kib > 0, "{peak:?}");
        assert!(peak.cpu_seconds > 0.1, "{peak:?}");
    }
}
