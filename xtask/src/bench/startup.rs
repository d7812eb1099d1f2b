//! Row 1 of the benchmark: how long a provider takes from its start to the plugin handshake, and how much
//! memory it holds once Terraform has read its schema. Every provider is measured the same way.
//!
//! - **Start to handshake**: the provider is started directly, with the environment Terraform 1.0.3's
//!   plugin client gives it (magic cookie, protocol versions, port range and a client certificate for
//!   automatic mutual TLS, so each provider also generates its own server certificate as under Terraform),
//!   and timed until it prints its handshake line.
//! - **Memory after the schema is served**: the provider is started again without the client certificate
//!   and Terraform is attached to it through `TF_REATTACH_PROVIDERS` (which has no TLS settings, hence
//!   plain text) to run `terraform providers schema -json`. An attached provider is not stopped by
//!   Terraform, so its `/proc` status can be read at leisure once the schema has been served.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use super::memory::{self, MemoryStatus};
use super::workspace::Terraform;
use super::Interruption;

/// The magic cookie of Terraform's plugin protocol: a plugin refuses to start without it.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The plugin protocol versions Terraform 1.0.3 offers; each plugin picks the highest it speaks.
const PROTOCOL_VERSIONS: &str = "5,6";

/// The port range Terraform's plugin client offers to plugins that listen on TCP.
const MIN_PORT: &str = "10000";
const MAX_PORT: &str = "25000";

/// How long a provider may take to print its handshake before the benchmark gives up on it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// A self-signed certificate (its key was thrown away) in the role of the certificate Terraform's plugin
/// client generates for automatic mutual TLS. A plugin only adds it to its trusted roots, but it does
/// generate its own key pair and certificate when it sees one, which is part of every real start.
const CLIENT_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBpjCCAU2gAwIBAgIUA8wpM3YcApCpToSbnYtuvlVS9fgwCgYIKoZIzj0EAwIw
KDESMBAGA1UECgwJSGFzaGlDb3JwMRIwEAYDVQQDDAlsb2NhbGhvc3QwIBcNMjYx
MjAzMTcyMzMzWhgPMjEyNjExMDkxNzIzMzNaMCgxEjAQBgNVBAoMCUhhc2hpQ29y
cDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
Em++ApqaGlJZRKAoW24cdxoAxEr03diAGXNCZ5qkAZxp7KprheBeL0qF3JfuCA6l
XbufOtfR5F37m7gx++RNB6NTMFEwHQYDVR0OBBYEFOx1SskFo7CrXnm/DahR8dMx
7BxjMB8GA1UdIwQYMBaAFOx1SskFo7CrXnm/DahR8dMx7BxjMA8GA1UdEwEB/wQF
MAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgZfuK1UICFbH1G7sYn3E+1zCw5nWJCzAg
9hfGVeF35TwCIE373qHkFQEhxarYZyXqcaRTYrf44ixfECZ1hQM/AC8z
-----END CERTIFICATE-----
";

/// A provider binary to measure.
pub struct Plugin {
    /// The binary.
    pub binary: PathBuf,
    /// Its full source address, such as `registry.terraform.io/runai/runai`.
    pub address: String,
}

impl Plugin {
    /// The provider's type name, the last part of its address, such as `runai`.
    fn type_name(&self) -> &str {
        self.address.rsplit('/').next().unwrap_or(&self.address)
    }
}

/// Every sample of one provider.
#[derive(Debug, Default)]
pub struct StartupFigures {
    pub handshake: Vec<Duration>,
    pub memory: Vec<MemoryStatus>,
}

/// Measures every plugin `runs` times, one plugin after the other within each round so that a slow
/// moment of the machine does not fall on one provider only. One unmeasured start of each comes first, so
/// that every binary is in the page cache.
pub fn measure(
    plugins: &[Plugin],
    terraform: &Terraform,
    directory: &Path,
    runs: usize,
    interruption: &Interruption,
) -> Result<Vec<StartupFigures>> {
    fs::create_dir_all(directory).with_context(|| format!("creating {}", directory.display()))?;
    for plugin in plugins {
        start(plugin, directory, true)?;
    }
    let mut figures: Vec<StartupFigures> = plugins.iter().map(|_| Default::default()).collect();
    for _round in 0..runs {
        for (plugin, figures) in plugins.iter().zip(&mut figures) {
            interruption.check()?;
            let (_running, elapsed) = start(plugin, directory, true)?;
            figures.handshake.push(elapsed);
        }
        for (plugin, figures) in plugins.iter().zip(&mut figures) {
            interruption.check()?;
            figures
                .memory
                .push(memory_after_schema(plugin, terraform, directory)?);
        }
    }
    Ok(figures)
}

/// A provider started by the benchmark; killed when dropped.
struct RunningPlugin {
    child: Child,
    handshake: Handshake,
}

impl Drop for RunningPlugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `plugin` as Terraform would and waits for its handshake; returns it running, with the time from
/// the start to the handshake line.
fn start(
    plugin: &Plugin,
    directory: &Path,
    with_client_certificate: bool,
) -> Result<(RunningPlugin, Duration)> {
    let log_path = directory.join(format!("{}.stderr", plugin.type_name()));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = Command::new(&plugin.binary);
    command
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", PROTOCOL_VERSIONS)
        .env("PLUGIN_MIN_PORT", MIN_PORT)
        .env("PLUGIN_MAX_PORT", MAX_PORT)
        // Go plugins put their Unix socket in the temporary directory and leave it behind when killed.
        .env("TMPDIR", directory)
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if with_client_certificate {
        command.env("PLUGIN_CLIENT_CERT", CLIENT_CERTIFICATE);
    }

    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", plugin.binary.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    // The reader notes the time itself, so the channel's hand-over does not count; it then keeps draining
    // stdout until the provider is killed, so a chatty provider can never block on a full pipe.
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = sender.send((line, started.elapsed()));
        }
        lines.for_each(drop);
    });
    let received = receiver.recv_timeout(HANDSHAKE_TIMEOUT);
    let (line, elapsed) = match received {
        Ok(received) => received,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{} printed no handshake within {HANDSHAKE_TIMEOUT:?}; its stderr is in {}",
                plugin.binary.display(),
                log_path.display()
            );
        }
    };
    let running = RunningPlugin {
        handshake: parse_handshake(&line),
        child,
    };
    ensure!(
        running.handshake.is_valid(),
        "{} printed {line:?} instead of a gRPC plugin handshake",
        plugin.binary.display()
    );
    Ok((running, elapsed))
}

/// Starts `plugin`, lets Terraform read its schema through `TF_REATTACH_PROVIDERS`, and reads its memory.
fn memory_after_schema(
    plugin: &Plugin,
    terraform: &Terraform,
    directory: &Path,
) -> Result<MemoryStatus> {
    let configuration = directory.join(format!("schema-{}", plugin.type_name()));
    fs::create_dir_all(&configuration)
        .with_context(|| format!("creating {}", configuration.display()))?;
    fs::write(
        configuration.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    {name} = {{ source = {source} }}\n  }}\n}}\n",
            name = plugin.type_name(),
            source = serde_json::to_string(&plugin.address)?,
        ),
    )
    .context("writing the schema configuration")?;

    let (running, _) = start(plugin, directory, false)?;
    let reattach = reattach_providers(&plugin.address, running.child.id(), &running.handshake);
    let mut command = terraform.command(&configuration, &["providers", "schema", "-json"]);
    command.env("TF_REATTACH_PROVIDERS", reattach);
    let schema = crate::process::output(&mut command)?;
    let schema: serde_json::Value =
        serde_json::from_str(&schema).context("parsing `terraform providers schema -json`")?;
    ensure!(
        schema["provider_schemas"][&plugin.address].is_object(),
        "Terraform did not read the schema of {} from the running provider",
        plugin.address
    );
    memory::read_status(running.child.id())
}

/// The handshake line a plugin prints on stdout: `CORE|PROTOCOL|NETWORK|ADDRESS|grpc|CERTIFICATE`.
#[derive(Debug, PartialEq, Eq)]
struct Handshake {
    core_version: String,
    protocol_version: u32,
    network: String,
    address: String,
    protocol: String,
}

impl Handshake {
    fn is_valid(&self) -> bool {
        self.core_version == "1"
            && self.protocol_version > 0
            && matches!(self.network.as_str(), "tcp" | "unix")
            && !self.address.is_empty()
            && self.protocol == "grpc"
    }
}

fn parse_handshake(line: &str) -> Handshake {
    let mut fields = line.trim_end().split('|');
    let mut next = || fields.next().unwrap_or_default().to_owned();
    Handshake {
        core_version: next(),
        protocol_version: next().parse().unwrap_or(0),
        network: next(),
        address: next(),
        protocol: next(),
    }
}

/// The value of `TF_REATTACH_PROVIDERS` that makes Terraform use the running provider `pid` for
/// `address`. `Test: true` tells Terraform that it does not own the process, so it never stops it.
fn reattach_providers(address: &str, pid: u32, handshake: &Handshake) -> String {
    serde_json::json!({
        address: {
            "Protocol": handshake.protocol,
            "ProtocolVersion": handshake.protocol_version,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": handshake.network, "String": handshake.address },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_of_rust_and_go_plugins_parse() {
        let rust = parse_handshake("1|6|tcp|127.0.0.1:10000|grpc|MIIB\n");
        assert!(rust.is_valid());
        assert_eq!(rust.protocol_version, 6);
        assert_eq!(rust.address, "127.0.0.1:10000");
        let go = parse_handshake("1|5|unix|/tmp/plugin047137376|grpc|");
        assert!(go.is_valid());
        assert_eq!(go.network, "unix");
    }

    #[test]
    fn log_lines_and_net_rpc_plugins_are_not_handshakes() {
        assert!(!parse_handshake(r#"{"@level":"debug","@message":"plugin address"}"#).is_valid());
        assert!(!parse_handshake("1|4|unix|/tmp/plugin1|netrpc|").is_valid());
        assert!(!parse_handshake("").is_valid());
    }

    #[test]
    fn the_reattach_configuration_names_the_process_and_its_address() {
        let handshake = parse_handshake("1|6|tcp|127.0.0.1:10000|grpc|");
        let value: serde_json::Value = serde_json::from_str(&reattach_providers(
            "registry.terraform.io/runai/runai",
            4242,
            &handshake,
        ))
        .unwrap();
        let provider = &value["registry.terraform.io/runai/runai"];
        assert_eq!(provider["Pid"], 4242);
        assert_eq!(provider["ProtocolVersion"], 6);
        assert_eq!(provider["Test"], true);
        assert_eq!(provider["Addr"]["Network"], "tcp");
        assert_eq!(provider["Addr"]["String"], "127.0.0.1:10000");
    }

    #[test]
    fn start_times_a_plugin_and_kills_it_when_dropped() {
        // A shell script in the role of a plugin: it checks the cookie as real plugins do.
        let scratch = tempfile::tempdir().unwrap();
        let script = scratch.path().join("terraform-provider-fake");
        let body = format!(
            "#!/bin/sh\n[ \"${MAGIC_COOKIE_KEY}\" = {MAGIC_COOKIE_VALUE} ] || exit 1\necho '1|6|tcp|127.0.0.1:1|grpc|'\nexec sleep 30\n"
        );
        let status = Command::new("sh")
            .args([
                "-c",
                "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
                "sh",
            ])
            .arg(&body)
            .arg(&script)
            .status()
            .unwrap();
        assert!(status.success());
        let plugin = Plugin {
            binary: script,
            address: "registry.terraform.io/test/fake".into(),
        };
        let (running, elapsed) = start(&plugin, scratch.path(), true).unwrap();
        assert!(elapsed < HANDSHAKE_TIMEOUT);
        assert_eq!(running.handshake.address, "127.0.0.1:1");
        let pid = running.child.id();
        drop(running);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
