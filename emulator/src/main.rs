//! The `runai-emulator` binary: serves the emulator on a TCP address until SIGINT or SIGTERM.
//!
//! The first line on stdout is `export RUNAI_BASE_URL=.. RUNAI_CLIENT_ID=.. RUNAI_CLIENT_SECRET=..`, so a
//! shell can `eval` it and tools can parse it; everything else (logs) goes to stderr.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use runai_emulator::{EmulatorConfig, Faults, PasswordMode};

/// An in-memory emulator of the NVIDIA Run:ai 2.19 registry-asset API, for tests and demos.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Arguments {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// A JSON file that keeps the registries across restarts.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,

    /// How passwords appear in responses: as-sent, masked or omitted.
    #[arg(long, default_value = "as-sent")]
    password_mode: PasswordMode,

    /// The client id (or app id) accepted by POST /api/v1/token.
    #[arg(long, default_value = "runai-emulator")]
    client_id: String,

    /// The client secret accepted by POST /api/v1/token.
    #[arg(
        long,
        default_value = "emulator-secret",
        env = "RUNAI_EMULATOR_CLIENT_SECRET",
        hide_env_values = true
    )]
    client_secret: String,

    /// A static bearer token that is always accepted.
    #[arg(
        long = "token",
        value_name = "STATIC",
        env = "RUNAI_EMULATOR_STATIC_TOKEN",
        hide_env_values = true
    )]
    static_token: Option<String>,

    /// How long issued access tokens stay valid, in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl_secs: u64,

    /// Added latency on asset routes, as MIN-MAX milliseconds (or a single number).
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_latency)]
    latency_ms: Option<(u64, u64)>,

    /// Share of asset requests answered 503 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    unavailable_ratio: f64,

    /// Share of asset requests answered 429 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    rate_limit_ratio: f64,

    /// The Retry-After value of injected 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,

    /// Share of successful POST/PUT/DELETE whose change is kept but that are answered 503 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    fail_after_commit_ratio: f64,
}

/// Parses `MIN-MAX` (or a single `N`, meaning exactly N) milliseconds.
fn parse_latency(text: &str) -> Result<(u64, u64), String> {
    let (min, max) = text.split_once('-').unwrap_or((text, text));
    let parse = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|error| format!("{part:?} is not a number of milliseconds: {error}"))
    };
    let (min, max) = (parse(min)?, parse(max)?);
    if min > max {
        return Err(format!(
            "the minimum {min} is greater than the maximum {max}"
        ));
    }
    Ok((min, max))
}

/// Quotes `value` for a POSIX shell when it holds anything beyond plainly safe characters.
fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(character));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only help a terminal; in a captured log file they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let (latency_min_ms, latency_max_ms) = arguments.latency_ms.unwrap_or((0, 0));
    let config = EmulatorConfig {
        client_id: arguments.client_id,
        client_secret: arguments.client_secret,
        static_token: arguments.static_token,
        token_ttl: Duration::from_secs(arguments.token_ttl_secs),
        password_mode: arguments.password_mode,
        faults: Faults {
            latency_min_ms,
            latency_max_ms,
            unavailable_ratio: arguments.unavailable_ratio,
            rate_limit_ratio: arguments.rate_limit_ratio,
            retry_after_secs: arguments.retry_after_secs,
            fail_after_commit_ratio: arguments.fail_after_commit_ratio,
        },
        state_file: arguments.state_file,
        ..EmulatorConfig::default()
    };
    let export_line = |address: SocketAddr| {
        format!(
            "export RUNAI_BASE_URL={} RUNAI_CLIENT_ID={} RUNAI_CLIENT_SECRET={}",
            shell_word(&format!("http://{address}")),
            shell_word(&config.client_id),
            shell_word(&config.client_secret)
        )
    };

    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async {
        let emulator = runai_emulator::Emulator::new(config.clone())?;
        let listener = tokio::net::TcpListener::bind(arguments.listen)
            .await
            .with_context(|| format!("binding {}", arguments.listen))?;
        let address = listener
            .local_addr()
            .context("reading the listen address")?;
        // The signal handlers are installed before the first line is printed: whoever reads it may
        // send SIGTERM at once, and it must stop the emulator gracefully, not kill it.
        let shutdown = shutdown_signal()?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", export_line(address)).context("writing to stdout")?;
        stdout.flush().context("flushing stdout")?;
        drop(stdout);
        runai_emulator::run(listener, emulator, shutdown).await
    })
}

/// Installs the SIGINT (Ctrl-C) and SIGTERM handlers now, and returns a future that completes when
/// either signal arrives: the signals used to stop the emulator gracefully.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT received, stopping"),
                _ = terminate.recv() => tracing::info!("SIGTERM received, stopping"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received, stopping");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_ranges_parse() {
        assert_eq!(parse_latency("10-50"), Ok((10, 50)));
        assert_eq!(parse_latency("20"), Ok((20, 20)));
        assert!(parse_latency("50-10").is_err());
        assert!(parse_latency("fast").is_err());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(shell_word("emulator-secret"), "emulator-secret");
        assert_eq!(shell_word("it's me"), r"'it'\''s me'");
        assert_eq!(shell_word(""), "''");
    }
}
