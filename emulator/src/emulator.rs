//! The [`Emulator`] handle: the shared state of one emulated Run:ai control plane, and the Rust API that
//! tests use to inspect and steer it without going through HTTP.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use crate::auth::TokenBook;
use crate::config::{EmulatorConfig, Faults, PasswordMode};
use crate::stats::Stats;
use crate::store::Store;

/// One emulated Run:ai control plane. Cheap to clone: clones share the same state.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) inner: Arc<Inner>,
}

/// The state shared by every request and every clone of the handle.
pub(crate) struct Inner {
    pub client_id: String,
    pub client_secret: String,
    pub static_token: Option<String>,
    pub token_ttl: Duration,
    pub tenant_id: i32,
    pub password_mode: RwLock<PasswordMode>,
    pub faults: RwLock<Faults>,
    pub store: Mutex<Store>,
    pub tokens: Mutex<TokenBook>,
    pub stats: Stats,
    /// The one HTTP client for every call to an OCI registry, so connections are pooled.
    pub http: reqwest::Client,
}

impl Emulator {
    /// Builds an emulator from `config`, loading the state file if one is configured and exists.
    pub fn new(config: EmulatorConfig) -> anyhow::Result<Emulator> {
        config
            .faults
            .validate()
            .map_err(|problem| anyhow::anyhow!("invalid faults: {problem}"))?;
        if config.client_id.is_empty() || config.client_secret.is_empty() {
            anyhow::bail!("the client id and the client secret must not be empty");
        }
        let store = Store::open(config.state_file.clone())?;
        Ok(Emulator {
            inner: Arc::new(Inner {
                client_id: config.client_id,
                client_secret: config.client_secret,
                static_token: config.static_token.filter(|token| !token.is_empty()),
                token_ttl: config.token_ttl,
                tenant_id: config.tenant_id,
                password_mode: RwLock::new(config.password_mode),
                faults: RwLock::new(config.faults),
                store: Mutex::new(store),
                tokens: Mutex::new(TokenBook::default()),
                stats: Stats::default(),
                http: crate::oci::build_http_client()?,
            }),
        })
    }

    /// The HTTP API of this emulator, ready to be served.
    pub fn router(&self) -> axum::Router {
        crate::routes::router(self.clone())
    }

    /// Changes how passwords appear in responses from now on.
    pub fn set_password_mode(&self, mode: PasswordMode) {
        *write(&self.inner.password_mode) = mode;
    }

    /// The current password mode.
    pub fn password_mode(&self) -> PasswordMode {
        *read(&self.inner.password_mode)
    }

    /// Changes the injected faults from now on.
    ///
    /// # Panics
    ///
    /// When a ratio is outside 0.0..=1.0 or the latency bounds are reversed: that is a bug in the test.
    pub fn set_faults(&self, faults: Faults) {
        if let Err(problem) = faults.validate() {
            panic!("invalid faults: {problem}");
        }
        *write(&self.inner.faults) = faults;
    }

    /// The currently injected faults.
    pub fn faults(&self) -> Faults {
        read(&self.inner.faults).clone()
    }

    /// Revokes every issued access token; clients must ask for new ones. The static token stays valid.
    pub fn revoke_tokens(&self) {
        self.tokens().revoke_all();
    }

    /// A snapshot of every registry in the API's JSON shape, with the real stored password.
    pub fn registries(&self) -> Vec<serde_json::Value> {
        self.store()
            .all()
            .iter()
            .map(|registry| registry.to_stored_json())
            .collect()
    }

    /// The time from the first asset call's arrival to the last one's answer since the previous call of
    /// this method (or the start), and starts a new window; `None` when no asset call was made. The
    /// benchmark uses it to time the calls of an apply without Terraform's start-up and wind-down.
    pub fn take_asset_window(&self) -> Option<Duration> {
        self.inner.stats.take_asset_window()
    }

    /// The counters: total requests, per-operation counts, injected faults, tokens issued, registry count.
    pub fn stats(&self) -> serde_json::Value {
        let mut json = self.inner.stats.to_json();
        json["tokens_issued"] = self.tokens().issued_count().into();
        json["registry_count"] = self.store().all().len().into();
        json["password_mode"] = self.password_mode().as_str().into();
        json["faults"] = serde_json::to_value(self.faults()).expect("faults serialize to JSON");
        json
    }

    /// Changes the stored password of registry `id` as if someone did it outside Terraform, bumping
    /// `updatedAt` and setting `updatedBy` to `out-of-band`. Returns false if there is no such registry.
    ///
    /// # Panics
    ///
    /// When the state file cannot be written.
    pub fn set_password_out_of_band(&self, id: &str, password: &str) -> bool {
        self.store()
            .set_password_out_of_band(&id.to_ascii_lowercase(), password)
            .expect("writing the state file")
    }

    /// Deletes registry `id` as if someone did it outside Terraform. Returns false if there is no such
    /// registry.
    ///
    /// # Panics
    ///
    /// When the state file cannot be written.
    pub fn delete_out_of_band(&self, id: &str) -> bool {
        match self.store().delete(&id.to_ascii_lowercase()) {
            Ok(()) => true,
            Err(error) if error.status == axum::http::StatusCode::NOT_FOUND => false,
            Err(error) => panic!("deleting registry {id} out of band: {}", error.message),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenBook> {
        lock(&self.inner.tokens)
    }
}

// A panic while a lock is held cannot leave the data half-changed (the store swaps in whole new states and
// the other values are plain), so a poisoned lock is still safe to use and the emulator keeps serving.

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
