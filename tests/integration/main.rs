//! The provider's integration tests: one test binary with a module per topic (as ripgrep does), so
//! that the binary is built once and the topics share the fixtures in `support`.
//!
//! Tests named `terraform_*` drive the real Terraform 1.0.3 CLI (`cargo xtask setup` installs it and
//! `cargo xtask test` passes its path in `RUNAI_TEST_TERRAFORM`) against the emulator; the data-source
//! tests also start the real `docker-registry`.

mod bad_answers;
mod client;
mod data_sources;
mod interrupt;
mod lifecycle;
mod lookup;
mod password_modes;
mod plan_errors;
mod rpc_latency;
mod scripted;
mod secrets_and_logs;
mod support;
mod tls;
