//! terraform-provider-runai: a Terraform provider for the registry assets of NVIDIA Run:ai.
//!
//! Code map (see ARCHITECTURE.md for the invariants):
//! - [`client`]: the Run:ai API client, the only code that knows HTTP and JSON.
//! - [`provider`], [`config`]: the provider block, its resolution against `RUNAI_*`, registration.
//! - [`resources`], [`data_sources`]: one file per Terraform type, each with the same skeleton.
//! - [`validation`], [`diagnostics`]: plan-time checks and user-facing errors shared by the types.
//! - [`logging`]: API-call lines for Terraform's log.
//! - [`nodelay`]: sets TCP_NODELAY on tf-provider's gRPC listener (about 40 ms per RPC otherwise).

pub mod client;
pub mod config;
pub mod data_sources;
pub mod diagnostics;
pub mod logging;
pub mod nodelay;
pub mod provider;
pub mod resources;
pub mod validation;
