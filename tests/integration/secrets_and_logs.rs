//! Secrets never reach any output, even at `TF_LOG=TRACE`, and `TF_LOG=DEBUG` shows every API call
//! with its method, path, status, attempt and duration, and nothing else.

use runai_emulator::{EmulatorConfig, Faults};

use crate::support::emulator_with;
use crate::support::terraform::Workdir;

const PASSWORD: &str = "trace-test-registry-password-6b1d";
const CLIENT_SECRET: &str = "trace-test-client-secret-a94e";

fn config(description: &str) -> String {
    format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "example" {{
  name        = "traced"
  description = "{description}"
  scope       = "tenant"
  url         = "https://registry.example.com"
  user        = "robot"
  password    = "{PASSWORD}"
}}
"#
    )
}

/// Every line of a file, or nothing if it does not exist.
fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn terraform_trace_logs_hold_no_secret_through_the_whole_lifecycle() {
    let emulator = emulator_with(EmulatorConfig {
        client_secret: CLIENT_SECRET.into(),
        ..EmulatorConfig::default()
    });
    let mut workdir = Workdir::new(&emulator);
    workdir.set_env("RUNAI_CLIENT_SECRET", CLIENT_SECRET);
    workdir.add_secret(CLIENT_SECRET);
    workdir.add_secret(PASSWORD);
    let terraform_log = workdir.path().join("terraform.log");
    let plugin_log = workdir.path().join("plugin.log");
    workdir.set_env("TF_LOG", "TRACE");
    workdir.set_env("TF_LOG_PATH", &terraform_log.display().to_string());
    workdir.set_env("PLUGIN_LOG_FILE", &plugin_log.display().to_string());
    workdir.write_config(&config("first"));

    workdir.success(&["plan", "-input=false"]);
    workdir.apply();
    let id = emulator.emulator.registries()[0]["meta"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    workdir.write_config(&config("second"));
    workdir.apply();
    workdir.success(&["refresh"]);
    workdir.success(&["state", "rm", "runai_registry.example"]);
    workdir.success(&["import", "runai_registry.example", &id]);
    workdir.success(&["destroy", "-auto-approve"]);

    // The access tokens the emulator issued are secrets too.
    let logs = format!("{}\n{}", read(&terraform_log), read(&plugin_log));
    assert!(
        logs.contains("runai api call"),
        "the trace log has the provider's lines"
    );
    for secret in [PASSWORD, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
    assert!(
        !logs.contains("Bearer ey"),
        "an access token is in the logs"
    );
    // Every token the emulator issues starts with the base64 of its JWT header.
    assert!(
        !logs.contains("eyJhbGciOi"),
        "an access token is in the logs"
    );
    assert!(
        !logs.contains("accessToken"),
        "a token answer is in the logs"
    );
}

#[test]
fn terraform_debug_log_shows_each_api_call_with_its_attempt_and_duration() {
    let emulator = emulator_with(EmulatorConfig::default());
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    let log = workdir.path().join("terraform.log");
    workdir.set_env("TF_LOG", "DEBUG");
    workdir.set_env("TF_LOG_PATH", &log.display().to_string());
    workdir.write_config(&config("logged").replace(
        "provider \"runai\" {}",
        "provider \"runai\" {\n  max_retries = 2\n}",
    ));
    workdir.apply();

    // Then every answer is a 503: the refresh of the next plan fails after three logged attempts.
    emulator.emulator.set_faults(Faults {
        unavailable_ratio: 1.0,
        ..Faults::default()
    });
    let failed = workdir.plan();
    assert_eq!(failed.code, 1, "{}", failed.output());
    assert!(
        failed.flat_output().contains("after 3 attempts"),
        "{}",
        failed.output()
    );

    let text = read(&log);
    let calls: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("runai api call"))
        .collect();
    let logged = |method: &str, status: &str, attempt: &str| {
        calls.iter().any(|line| {
            line.contains(&format!("method={method}"))
                && line.contains("path=/api/v1/asset/registries")
                && line.contains(&format!("status={status}"))
                && line.contains(&format!("attempt={attempt}"))
                && line.contains("duration_ms=")
        })
    };
    assert!(
        logged("POST", "201", "1"),
        "no create call in:\n{}",
        calls.join("\n")
    );
    assert!(
        logged("GET", "503", "1"),
        "no failed read in:\n{}",
        calls.join("\n")
    );
    assert!(
        logged("GET", "503", "3"),
        "no third attempt in:\n{}",
        calls.join("\n")
    );
    for line in &calls {
        assert!(!line.contains(PASSWORD) && !line.to_ascii_lowercase().contains("authorization"));
    }
}
