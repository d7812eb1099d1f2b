//! The `runai-emulator` binary: the export line on stdout, flags, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[test]
fn the_binary_prints_its_export_line_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runai-emulator"))
        .args([
            "--client-id",
            "cli-client",
            "--client-secret",
            "cli-secret",
            "--password-mode",
            "masked",
        ])
        .args(["--rate-limit-ratio", "0", "--latency-ms", "0-1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("a first line");

    let words: Vec<&str> = first_line.trim_end().split(' ').collect();
    assert_eq!(words.len(), 4, "{first_line:?}");
    assert_eq!(words[0], "export");
    let base_url = words[1]
        .strip_prefix("RUNAI_BASE_URL=http://127.0.0.1:")
        .expect("a loopback URL");
    assert!(base_url.parse::<u16>().is_ok(), "{first_line:?}");
    assert_eq!(words[2], "RUNAI_CLIENT_ID=cli-client");
    assert_eq!(words[3], "RUNAI_CLIENT_SECRET=cli-secret");

    let base_url = words[1].trim_start_matches("RUNAI_BASE_URL=");
    let client = reqwest::blocking::Client::new();
    let token = client
        .post(format!("{base_url}/api/v1/token"))
        .json(&json!({"grantType": "client_credentials", "clientId": "cli-client", "clientSecret": "cli-secret"}))
        .send()
        .expect("answers");
    assert_eq!(token.status(), reqwest::StatusCode::OK);
    let stats: serde_json::Value = client
        .get(format!("{base_url}/_emulator/stats"))
        .send()
        .expect("answers")
        .json()
        .expect("JSON");
    assert_eq!(stats["password_mode"], "masked");
    assert_eq!(stats["faults"]["latency_max_ms"], 1);

    // The shell's built-in `kill` works even where no separate kill binary is installed.
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("sh runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the emulator did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "a graceful stop exits 0: {status}");
}
