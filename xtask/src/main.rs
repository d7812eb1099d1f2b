//! `cargo xtask`: the project's development automation, written in Rust so it runs wherever Cargo does.
//!
//! Each subcommand lives in its own module; `process` holds the one helper that runs (and echoes) other
//! programs, and `paths` knows where things live in the workspace.

mod bench;
mod build;
mod demo;
mod dev_terraform;
mod dist;
mod docs;
mod examples;
mod paths;
mod process;
mod release;
mod reliability;
mod setup;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Development tasks for terraform-provider-runai.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the tests and the demo need (protoc, docker-registry, Terraform 1.0.3), only if missing.
    Setup,
    /// Run every check CI runs: setup, formatting, lints and all tests.
    Test,
    /// Build the provider and run Terraform against the emulator and a real OCI registry.
    Demo,
    /// Generate docs/ from the provider's schema and examples/; with --check, fail if docs/ is out of date.
    Docs {
        /// Compare freshly generated pages with docs/ instead of writing them.
        #[arg(long)]
        check: bool,
    },
    /// Check that every example is `terraform fmt` clean and passes `terraform validate`.
    ExamplesCheck,
    /// Build the release ZIP, manifest, SHA256SUMS (and a signature if GPG_FINGERPRINT is set) in target/dist.
    Dist,
    /// Build the release artifacts, install them from a filesystem mirror and apply them against the emulator.
    ReleaseCheck,
    /// Measure startup, memory and Terraform run times against Go providers and Terraform's floor, and
    /// write the table to BENCHMARKS.md.
    Bench {
        /// Fewer repetitions, and the page goes to target/bench/ instead of BENCHMARKS.md.
        #[arg(long)]
        quick: bool,
    },
    /// Print the reliability figures: many registries applied, planned and destroyed under injected
    /// faults, and an apply interrupted with SIGINT halfway.
    Reliability {
        /// How many registries to declare.
        #[arg(long, default_value_t = 200)]
        count: usize,
    },
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let outcome = match arguments.command {
        Command::Setup => setup::setup().map(|_| ()),
        Command::Test => test::test(),
        Command::Demo => demo::demo(),
        Command::Docs { check } => docs::docs(check),
        Command::ExamplesCheck => examples::examples_check(),
        Command::Dist => dist::dist().map(|_| ()),
        Command::ReleaseCheck => release::release_check(),
        Command::Reliability { count } => reliability::reliability(count),
        Command::Bench { quick } => bench::bench(quick),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The alternate format prints the whole chain of causes on one line, without the backtrace
            // that anyhow's `Debug` output adds whenever RUST_BACKTRACE is set.
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
