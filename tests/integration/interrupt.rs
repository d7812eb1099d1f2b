//! Ctrl-C in the middle of an apply. A terminal sends SIGINT to the whole process group, so the
//! provider receives it as well as Terraform. The provider must survive it and let Terraform finish
//! the operations in flight: afterwards the state must hold every registry the server holds (no
//! create lost), and a second apply must end with exactly the declared registries, each once.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use runai_emulator::{EmulatorConfig, Faults};

use crate::support::emulator_with;
use crate::support::terraform::Workdir;

const COUNT: usize = 30;

#[test]
fn terraform_apply_interrupted_by_ctrl_c_loses_nothing_and_resumes() {
    let emulator = emulator_with(EmulatorConfig {
        faults: Faults {
            latency_min_ms: 20,
            latency_max_ms: 40,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let workdir = Workdir::new(&emulator);
    workdir.write_config(&format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "fleet" {{
  count    = {COUNT}
  name     = "fleet-${{count.index}}"
  scope    = "tenant"
  url      = "https://registry.example.com"
  user     = "robot"
  password = "interrupt-password"
}}
"#
    ));

    let mut apply = workdir.command(&["apply", "-auto-approve", "-input=false"]);
    let apply = apply
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("terraform starts");
    let started = Instant::now();
    while emulator.emulator.registries().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the apply never started creating"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Slow every call down before the signal, so that the apply is certainly still creating when it
    // arrives, however late this thread gets to run on a loaded machine.
    emulator.emulator.set_faults(Faults {
        latency_min_ms: 2000,
        latency_max_ms: 2000,
        ..Faults::default()
    });
    // SAFETY: signals the process group of our own child, which exists until it is waited for.
    unsafe {
        libc::kill(-(apply.id() as libc::pid_t), libc::SIGINT);
    }
    let output = apply.wait_with_output().unwrap();
    emulator.emulator.set_faults(Faults::default());
    assert!(
        emulator.emulator.registries().len() < COUNT,
        "the interrupt came after the apply had finished"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("Interrupt received"), "{text}");
    for crash in [
        "plugin exited",
        "unexpected EOF",
        "connection refused",
        "transport is closing",
    ] {
        assert!(
            !text.contains(crash),
            "the provider died on the signal:\n{text}"
        );
    }

    let on_server = emulator.emulator.registries().len();
    let in_state = workdir
        .run(&["state", "list"])
        .stdout
        .lines()
        .filter(|line| !line.is_empty())
        .count();
    assert_eq!(
        on_server, in_state,
        "a registry on the server is missing from the state"
    );

    workdir.apply();
    let mut names = BTreeMap::new();
    for registry in emulator.emulator.registries() {
        *names
            .entry(registry["meta"]["name"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(names.len(), COUNT);
    assert!(names.values().all(|count| *count == 1), "{names:?}");
    workdir.assert_no_changes();
    workdir.success(&["destroy", "-auto-approve"]);
    assert!(emulator.emulator.registries().is_empty());
}
