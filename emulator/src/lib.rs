//! runai-emulator: an in-memory emulator of the NVIDIA Run:ai 2.19 registry-asset API.
//!
//! It is the default backend of the provider's demo and tests, so it follows the API contract
//! (`runai-registry-api.openapi.json`) closely: the same routes, shapes, validation rules and status codes,
//! plus the token exchange of `POST /api/v1/token`. Repositories and tags are listed live from the OCI
//! registry an asset points at. For testing clients it can also inject faults, change how passwords are
//! returned, revoke tokens, and simulate changes made outside Terraform.
//!
//! # Code map
//!
//! - [`config`]: [`EmulatorConfig`], [`Faults`], [`PasswordMode`].
//! - `emulator`: the [`Emulator`] handle (shared state) and its Rust API.
//! - `server`: [`run`] on a listener, or [`spawn_in_background`] for tests.
//! - `routes`: the HTTP routes, authentication extractor and admin API (`/_emulator/...`).
//! - `validate`: request parsing and the contract's validation rules (400s naming the field).
//! - `store`: the registries, name-uniqueness (409) and the atomic JSON state file.
//! - `model`: the stored `Registry` in the contract's JSON shape, and password masking.
//! - `auth`: token requests, JWT-shaped access tokens, the bearer check.
//! - `oci`: the OCI distribution client (catalog and tags, with `Link` pagination).
//! - `faults`: fault-injection middleware.
//! - `stats`: request and fault counters, and the window in which asset calls were in flight.
//! - `oci_fixture` (feature `oci-fixture`): a real `docker-registry` process for tests.
//!
//! # Invariants
//!
//! - Secrets (registry passwords, client secret, tokens) never appear in logs or error messages.
//! - Every error response has the contract's `Error` shape: `{"code", "message", "details"?}`.
//! - The emulator never depends on the provider crate.

mod auth;
pub mod config;
mod emulator;
mod error;
mod faults;
mod model;
mod oci;
#[cfg(feature = "oci-fixture")]
pub mod oci_fixture;
mod routes;
mod server;
mod stats;
mod store;
mod validate;

pub use config::{EmulatorConfig, Faults, PasswordMode};
pub use emulator::Emulator;
pub use server::{run, spawn_in_background, RunningEmulator};
