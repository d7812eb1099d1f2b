//! Serving an [`Emulator`]: on a given listener until a shutdown signal ([`run`]), or on a private thread
//! and runtime for tests ([`spawn_in_background`]).

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::config::EmulatorConfig;
use crate::emulator::Emulator;

/// How long in-flight requests may take to finish after a background emulator is asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `emulator` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: tokio::net::TcpListener,
    emulator: Emulator,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener
        .local_addr()
        .context("reading the listen address")?;
    tracing::info!(%address, "runai-emulator listening");
    axum::serve(listener, emulator.router())
        // Without TCP_NODELAY, small request/response pairs on loopback can stall for ~40 ms each.
        .tcp_nodelay(true)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the emulator")?;
    tracing::info!("runai-emulator stopped");
    Ok(())
}

/// An emulator served on a background thread. Dropping it shuts the server down.
pub struct RunningEmulator {
    /// Where the emulator listens, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    /// The emulator itself, to inspect and steer it directly.
    pub emulator: Emulator,
    /// The bound address.
    pub address: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the emulator on `127.0.0.1:0` on its own thread with its own tokio runtime, so that both sync and
/// async tests can use it. Dropping the handle shuts the server down.
pub fn spawn_in_background(config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let emulator = Emulator::new(config)?;
    // Binding here, on the caller's thread, reports a failure directly and makes the port known at once.
    let std_listener = StdTcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    std_listener
        .set_nonblocking(true)
        .context("making the listener non-blocking")?;
    let address = std_listener
        .local_addr()
        .context("reading the listen address")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("runai-emulator")
        .enable_all()
        .build()
        .context("building the emulator's tokio runtime")?;
    let (stop, mut stop_requested) = watch::channel(false);
    let server_emulator = emulator.clone();
    let thread = std::thread::Builder::new()
        .name("runai-emulator".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::error!("could not use the emulator's listener: {error}");
                        return;
                    }
                };
                let mut grace_started = stop_requested.clone();
                let shutdown = async move {
                    // An error means the handle is gone, which is also a request to stop.
                    let _ = stop_requested.wait_for(|stop| *stop).await;
                };
                let grace_over = async move {
                    let _ = grace_started.wait_for(|stop| *stop).await;
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                };
                tokio::select! {
                    result = run(listener, server_emulator, shutdown) => {
                        if let Err(error) = result {
                            tracing::error!("the background emulator failed: {error:#}");
                        }
                    }
                    () = grace_over => tracing::warn!("the background emulator did not stop in time"),
                }
            });
            // Connections still open after the grace period are dropped with the runtime.
            runtime.shutdown_timeout(Duration::from_millis(100));
        })
        .context("starting the emulator thread")?;
    Ok(RunningEmulator {
        base_url: format!("http://{address}"),
        emulator,
        address,
        stop,
        thread: Some(thread),
    })
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
