//! The `terraform-provider-runai` binary: serves the provider to Terraform over the plugin protocol.

use terraform_provider_runai::provider::{RunaiProvider, PROVIDER_NAME};

fn main() -> anyhow::Result<()> {
    // tf-provider appends a backtrace to every diagnostic when RUST_BACKTRACE is set, as it is in
    // many users' shells. RUST_LIB_BACKTRACE=0 turns that off for library backtraces only (panics
    // keep theirs). It is set before any thread starts, so no other thread can be reading the
    // environment.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    terraform_provider_runai::logging::enable();
    // Ctrl-C in a terminal sends SIGINT to the whole process group, the provider included. Terraform
    // then stops the provider itself (StopProvider) once in-flight operations are done; dying on the
    // signal instead would lose creates that the control plane already made. Go providers ignore it
    // for the same reason.
    // SAFETY: `signal` with SIG_IGN installs no handler code; it runs before any thread starts.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    // Without this every RPC waits about 40 ms for a delayed ACK; see `nodelay`. A failure only
    // costs speed, so it is not fatal.
    if let Err(error) = terraform_provider_runai::nodelay::install_handshake_hook() {
        eprintln!("could not install the TCP_NODELAY handshake hook: {error}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(tf_provider::serve(PROVIDER_NAME, RunaiProvider::new()))
}
