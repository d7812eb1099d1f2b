//! Integration tests of runai-emulator over HTTP: one test binary with a module per topic.
//!
//! Run them with `cargo test -p runai-emulator --features oci-fixture`; without the feature the tests that
//! need a real OCI registry (Debian's docker-registry) are left out.

mod admin;
mod auth;
mod cli;
mod conflicts;
mod crud;
mod faults;
mod lifecycle;
#[cfg(feature = "oci-fixture")]
mod oci;
mod pagination;
mod password_modes;
mod persistence;
mod support;
mod validation;
