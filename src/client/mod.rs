//! The Run:ai API client: the only code in the provider that knows HTTP and JSON.
//!
//! One [`ApiClient`] is built per provider configuration and shared by every concurrent RPC. It owns
//! one `reqwest` connection pool, the token cache and the retry policy. Each public method is one
//! operation of the contract (plus the token exchange in `auth`), takes and returns the typed models
//! of [`models`], and fails with a typed [`ApiError`].

pub mod auth;
pub mod error;
pub mod models;
pub mod retry;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::Mutex;

pub use auth::{Credentials, GrantType};
pub use error::{ApiError, ApiErrorKind};
pub use models::*;
pub use retry::RetryPolicy;

use crate::logging::{self, Level};
use auth::CachedToken;
use secrecy::ExposeSecret;

/// The largest response body the client accepts; a larger one is an error, not an out-of-memory kill.
/// Ten thousand repositories of fifty characters are half a megabyte, so this leaves ample room.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// How far the control plane's clock may be behind ours when deciding whether a registry found after
/// a create of unknown outcome was created by that create. Small on purpose: a registry made by
/// someone else in this window, with the same name, scope, URL, user and description, is the only
/// one that could be mistaken for ours; a control plane whose clock is further behind makes the
/// provider report a conflict to import instead, which loses nothing.
const CLOCK_SKEW_ALLOWANCE: time::Duration = time::Duration::seconds(30);

/// Everything needed to build a client; the Terraform layer fills it from the provider block.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The control plane's base URL, e.g. `https://acme.run.ai`, without a trailing slash.
    pub base_url: String,
    pub credentials: Credentials,
    /// A human description of where the credentials came from, for 401/403 messages, e.g.
    /// `client_id "ci-app" (from RUNAI_CLIENT_ID)`. It never holds a secret.
    pub credentials_description: String,
    /// The timeout of a single HTTP request.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Extra PEM certificates to trust, besides the platform's roots.
    pub ca_certificate_pem: Option<String>,
    /// Accept any server certificate. Dangerous; the Terraform layer warns.
    pub insecure_skip_tls_verify: bool,
    /// Allow credentials over plain `http://` to a host that is not a loopback address.
    pub allow_insecure_http: bool,
}

impl ClientConfig {
    /// A configuration with the default timeouts and retry policy.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            credentials,
            credentials_description: "the configured credentials".into(),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            ca_certificate_pem: None,
            insecure_skip_tls_verify: false,
            allow_insecure_http: false,
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("base URL {0:?} is not a valid http:// or https:// URL")]
    InvalidBaseUrl(String),
    #[error(
        "base URL {0:?} uses plain http:// to a host that is not a loopback address, which would send \
         the credentials unencrypted; use https://, or set allow_insecure_http = true if you accept that"
    )]
    InsecureHttp(String),
    #[error("the CA certificate is not valid PEM: {0}")]
    InvalidCaCertificate(String),
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
}

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idempotency {
    /// GET, PUT, DELETE: repeating them changes nothing.
    Idempotent,
    /// POST create: repeated only when the server certainly did not act (429, connection refused).
    NotIdempotent,
}

/// The shared Run:ai API client.
pub struct ApiClient {
    http: reqwest::Client,
    config: ClientConfig,
    token: Mutex<Option<CachedToken>>,
    /// The grant that worked last, so that only the first exchange probes for it.
    grant: std::sync::Mutex<Option<GrantType>>,
    token_generation: AtomicU64,
    retries: AtomicU64,
    /// One lock per name and scope being created; see `create_registry`.
    creation_turns: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// The ids of the registries this process created or adopted, which it must never adopt again.
    claimed: std::sync::Mutex<HashSet<String>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ApiClient")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// Builds the client and its connection pool. No request is made until the first call.
    pub fn new(config: ClientConfig) -> Result<ApiClient, ClientBuildError> {
        let url = url::Url::parse(&config.base_url)
            .map_err(|_| ClientBuildError::InvalidBaseUrl(config.base_url.clone()))?;
        match url.scheme() {
            "https" => {}
            "http" if config.allow_insecure_http || is_loopback(&url) => {}
            "http" => return Err(ClientBuildError::InsecureHttp(config.base_url.clone())),
            _ => return Err(ClientBuildError::InvalidBaseUrl(config.base_url.clone())),
        }
        if url.host_str().is_none() {
            return Err(ClientBuildError::InvalidBaseUrl(config.base_url.clone()));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!(
                "terraform-provider-runai/",
                env!("CARGO_PKG_VERSION")
            ))
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .https_only(false);
        if let Some(pem) = &config.ca_certificate_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|error| ClientBuildError::InvalidCaCertificate(error.to_string()))?;
            if certificates.is_empty() {
                return Err(ClientBuildError::InvalidCaCertificate(
                    "no certificate found in it".into(),
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if config.insecure_skip_tls_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|error| ClientBuildError::Http(error.to_string()))?;
        Ok(ApiClient {
            http,
            config,
            token: Mutex::new(None),
            grant: std::sync::Mutex::new(None),
            token_generation: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            creation_turns: std::sync::Mutex::new(HashMap::new()),
            claimed: std::sync::Mutex::new(HashSet::new()),
        })
    }

    /// How many retries this client has made so far, for logs and figures.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    // ----- Operations of the contract -----

    /// `list_registries`: every registry, or those named exactly `name`.
    pub async fn list_registries(&self, name: Option<&str>) -> Result<Vec<Registry>, ApiError> {
        let query: Vec<(&str, &str)> = name.map(|name| ("name", name)).into_iter().collect();
        let list: RegistryListResponse = self
            .call(
                Method::GET,
                "/api/v1/asset/registries",
                &query,
                None::<&()>,
                Idempotency::Idempotent,
            )
            .await?;
        Ok(list.entries)
    }

    /// `get_registry_by_id`.
    pub async fn get_registry(&self, id: &str) -> Result<Registry, ApiError> {
        self.call(
            Method::GET,
            &registry_path(id),
            &[],
            None::<&()>,
            Idempotency::Idempotent,
        )
        .await
    }

    /// `create_registry`, safe against duplicates.
    ///
    /// A create whose outcome is unknown (a timeout, a reset connection, a 5xx, an answer whose body
    /// was lost) is never sent again blindly: the client first looks for a registry of that name in
    /// that scope. It adopts one that matches the request, was created after this call began, and was
    /// not already created or adopted by this process; it reports any other as a conflict naming its
    /// id; and only when there is none does it send the create again. An adopted registry is updated
    /// with the request's spec, so that its password is certainly the configured one.
    pub async fn create_registry(
        &self,
        request: &RegistryCreationRequest,
    ) -> Result<Registry, ApiError> {
        // Creates of one name in one scope take turns within this process, so that two resources
        // declaring the same registry cannot both adopt the one registry the first of them created.
        // The lock is held across the awaits on purpose; creates of other names do not wait.
        let turn = self.creation_turn(request);
        let _turn = turn.lock().await;
        let started_at = OffsetDateTime::now_utc();
        let started = Instant::now();
        let mut outcome_unknown = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result: Result<Registry, ApiError> = self
                .call(
                    Method::POST,
                    "/api/v1/asset/registries",
                    &[],
                    Some(request),
                    Idempotency::NotIdempotent,
                )
                .await;
            let error = match result {
                Ok(registry) => {
                    self.claim(&registry.meta.id);
                    return Ok(registry);
                }
                Err(error) => error,
            };
            let unknown = match error.kind {
                ApiErrorKind::Unavailable | ApiErrorKind::Transport => true,
                // A success whose body could not be read or decoded: the registry exists.
                ApiErrorKind::Decode => error.status.is_some_and(|status| status < 300),
                _ => false,
            };
            if !unknown && error.kind != ApiErrorKind::Conflict {
                return Err(error);
            }
            outcome_unknown |= unknown;
            let existing = match self.find_same_registry(request).await {
                Ok(existing) => existing,
                Err(lookup_error) => return Err(lookup_failed(error, &lookup_error)),
            };
            match existing {
                Some(registry)
                    if outcome_unknown
                        && !self.is_claimed(&registry.meta.id)
                        && created_by_this_call(&registry, request, started_at) =>
                {
                    return Ok(self.adopt(registry, request, attempt).await);
                }
                Some(registry) => return Err(conflict_error(request, &registry, error.attempts)),
                None if error.kind == ApiErrorKind::Conflict => return Err(error),
                None => {
                    let wait = self.config.retry.backoff(attempt, None);
                    if !self.config.retry.allows(attempt, wait, started) {
                        return Err(error);
                    }
                    let path = "/api/v1/asset/registries";
                    self.note_retry(
                        &Method::POST,
                        path,
                        attempt,
                        wait,
                        "create not found after unknown outcome",
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Takes over a registry that a create of unknown outcome made, and makes sure it holds the
    /// request's spec: the API may mask the password, so only an update proves it is the right one.
    /// If that update fails the registry is still returned, since losing track of it would orphan it.
    async fn adopt(
        &self,
        registry: Registry,
        request: &RegistryCreationRequest,
        attempt: u32,
    ) -> Registry {
        self.claim(&registry.meta.id);
        logging::event(
            Level::Warn,
            "adopted the registry created by a create whose answer was lost",
            &[("id", json!(registry.meta.id)), ("attempt", json!(attempt))],
        );
        let update = RegistryUpdateRequest {
            meta: AssetUpdateRequest {
                name: request.meta.name.clone(),
                description: request.meta.description.clone(),
            },
            spec: request.spec.clone(),
        };
        match self.update_registry(&registry.meta.id, &update).await {
            Ok(updated) => updated,
            Err(error) => {
                logging::event(
                    Level::Warn,
                    "could not update an adopted registry",
                    &[
                        ("id", json!(registry.meta.id)),
                        ("error", json!(error.to_string())),
                    ],
                );
                registry
            }
        }
    }

    /// The lock that makes creates of one name in one scope take turns.
    fn creation_turn(&self, request: &RegistryCreationRequest) -> Arc<Mutex<()>> {
        let meta = &request.meta;
        let key = format!(
            "{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}",
            meta.scope,
            meta.name,
            meta.cluster_id.as_deref().map(str::to_ascii_lowercase),
            meta.department_id,
            meta.project_id
        );
        let mut turns = self
            .creation_turns
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        turns.entry(key).or_default().clone()
    }

    /// Records that this process created or adopted the registry `id`.
    fn claim(&self, id: &str) {
        self.claimed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id.to_ascii_lowercase());
    }

    /// True when this process already created or adopted the registry `id`.
    fn is_claimed(&self, id: &str) -> bool {
        self.claimed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .contains(&id.to_ascii_lowercase())
    }

    /// `update_registry`.
    pub async fn update_registry(
        &self,
        id: &str,
        request: &RegistryUpdateRequest,
    ) -> Result<Registry, ApiError> {
        self.call(
            Method::PUT,
            &registry_path(id),
            &[],
            Some(request),
            Idempotency::Idempotent,
        )
        .await
    }

    /// `delete_registry`. A registry that is already gone counts as deleted, because that is the state
    /// the caller asked for (and a retried DELETE whose first answer was lost finds it gone).
    pub async fn delete_registry(&self, id: &str) -> Result<(), ApiError> {
        let result: Result<serde::de::IgnoredAny, ApiError> = self
            .call(
                Method::DELETE,
                &registry_path(id),
                &[],
                None::<&()>,
                Idempotency::Idempotent,
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// `get_repositories`: the repositories of the registry asset's OCI registry.
    pub async fn get_repositories(
        &self,
        id: &str,
        search_name: Option<&str>,
    ) -> Result<Repositories, ApiError> {
        let query: Vec<(&str, &str)> = search_name
            .map(|search| ("searchName", search))
            .into_iter()
            .collect();
        self.call(
            Method::GET,
            &format!("{}/repositories", registry_path(id)),
            &query,
            None::<&()>,
            Idempotency::Idempotent,
        )
        .await
    }

    /// `get_repository_tags`: the tags of one repository.
    pub async fn get_repository_tags(
        &self,
        id: &str,
        repository: &str,
        search_name: Option<&str>,
    ) -> Result<RepositoryTags, ApiError> {
        let mut query = vec![("repository", repository)];
        if let Some(search) = search_name {
            query.push(("searchName", search));
        }
        self.call(
            Method::GET,
            &format!("{}/repositories/tags", registry_path(id)),
            &query,
            None::<&()>,
            Idempotency::Idempotent,
        )
        .await
    }

    // ----- Internals -----

    /// Looks for a registry with the request's name in the request's scope and scope ids.
    async fn find_same_registry(
        &self,
        request: &RegistryCreationRequest,
    ) -> Result<Option<Registry>, ApiError> {
        // An id the request leaves out may be filled in by the control plane (a project's cluster),
        // so it matches anything; ids are UUIDs, compared without regard to case.
        fn same_id(ours: &Option<String>, theirs: &Option<String>) -> bool {
            match ours {
                None => true,
                Some(ours) => theirs
                    .as_deref()
                    .is_some_and(|theirs| theirs.eq_ignore_ascii_case(ours)),
            }
        }
        let entries = self.list_registries(Some(&request.meta.name)).await?;
        Ok(entries.into_iter().find(|registry| {
            let meta = &registry.meta;
            meta.name == request.meta.name
                && meta.scope == request.meta.scope
                && same_id(&request.meta.cluster_id, &meta.cluster_id)
                && same_id(&request.meta.department_id, &meta.department_id)
                && (request.meta.project_id.is_none() || meta.project_id == request.meta.project_id)
        }))
    }

    /// Sends one operation with authentication and retries, and decodes the answer.
    async fn call<Body: Serialize + ?Sized, Answer: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Body>,
        idempotency: Idempotency,
    ) -> Result<Answer, ApiError> {
        let body = match body {
            Some(body) => Some(serde_json::to_vec(body).map_err(|error| {
                ApiError::new(
                    ApiErrorKind::Configuration,
                    method.as_str(),
                    path,
                    format!("the request could not be encoded: {error}"),
                )
            })?),
            None => None,
        };
        let url = format!("{}{}", self.config.base_url, path);
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut renewed_after_401 = false;
        loop {
            attempt += 1;
            let token = self.token(method.as_str(), path).await?;
            let mut builder = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if !query.is_empty() {
                builder = builder.query(query);
            }
            if let Some(body) = &body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let attempt_started = Instant::now();
            let sent = builder.send().await;
            let duration_ms = attempt_started.elapsed().as_millis() as u64;

            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    log_call(&method, path, None, attempt, duration_ms);
                    // A refused connection never reached the server, so even a create may be sent
                    // again; anything later (a timeout, a reset) may have been acted on.
                    let safe_to_repeat = (idempotency == Idempotency::Idempotent
                        || error.is_connect())
                        && !is_certificate_failure(&error);
                    let wait = self.config.retry.backoff(attempt, None);
                    if safe_to_repeat && self.config.retry.allows(attempt, wait, started) {
                        self.note_retry(&method, path, attempt, wait, "transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let mut api_error = ApiError::new(
                        ApiErrorKind::Transport,
                        method.as_str(),
                        path,
                        describe_transport_error(&error),
                    );
                    api_error.attempts = attempt;
                    return Err(api_error);
                }
            };

            let status = response.status();
            log_call(&method, path, Some(status.as_u16()), attempt, duration_ms);
            if status.is_success() {
                return decode_answer(response, method.as_str(), path, attempt).await;
            }
            if status == StatusCode::UNAUTHORIZED
                && !renewed_after_401
                && matches!(self.config.credentials, Credentials::Application { .. })
            {
                // The token may have been revoked or expired early: renew it once and repeat.
                renewed_after_401 = true;
                self.invalidate_token(token.generation).await;
                continue;
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(retry::parse_retry_after);
            let retryable = retry::is_retryable_status(status.as_u16())
                && (idempotency == Idempotency::Idempotent
                    || status == StatusCode::TOO_MANY_REQUESTS);
            if retryable {
                let wait = self.config.retry.backoff(attempt, retry_after);
                if self.config.retry.allows(attempt, wait, started) {
                    // The body of a response we retry is not needed; dropping it frees the connection.
                    drop(response);
                    self.note_retry(&method, path, attempt, wait, status.as_str());
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let mut api_error = error_from_response(response, method.as_str(), path).await;
            api_error.attempts = attempt;
            if api_error.kind == ApiErrorKind::Unauthorized
                || api_error.kind == ApiErrorKind::Forbidden
            {
                api_error.message = Some(self.describe_auth_failure(&api_error));
            }
            return Err(api_error);
        }
    }

    /// Counts and logs a retry.
    fn note_retry(&self, method: &Method, path: &str, attempt: u32, wait: Duration, why: &str) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        logging::event(
            Level::Debug,
            "runai api retry",
            &[
                ("method", json!(method.as_str())),
                ("path", json!(path)),
                ("attempt", json!(attempt)),
                ("reason", json!(why)),
                ("wait_ms", json!(wait.as_millis() as u64)),
            ],
        );
    }

    /// A 401/403 message that says which credentials were used, never their values.
    fn describe_auth_failure(&self, error: &ApiError) -> String {
        let verdict = if error.kind == ApiErrorKind::Unauthorized {
            "rejected"
        } else {
            "lacks permission for this operation with"
        };
        let api_message = error
            .message
            .as_deref()
            .filter(|message| !message.is_empty())
            .map(|message| format!(" The API said: {message}."))
            .unwrap_or_default();
        format!(
            "the Run:ai control plane at {} {verdict} {}.{api_message}",
            self.config.base_url, self.config.credentials_description
        )
    }

    /// A token to send: the static one, or a cached exchanged one, renewed when stale.
    async fn token(&self, method: &str, path: &str) -> Result<CachedToken, ApiError> {
        let (client_id, client_secret) = match &self.config.credentials {
            Credentials::StaticToken(token) => {
                return Ok(CachedToken {
                    value: token.clone(),
                    renew_at: Instant::now() + Duration::from_secs(3600),
                    generation: 0,
                })
            }
            Credentials::Application {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        // Holding the lock across the exchange is deliberate: it makes concurrent RPCs that find the
        // token stale wait for one exchange instead of each starting their own.
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|token| token.is_fresh()) {
            return Ok(token.clone());
        }
        let value = self
            .exchange_token(client_id, client_secret.expose_secret())
            .await
            .map_err(|mut error| {
                // Report the operation that needed the token, with the exchange as the reason.
                error.message = Some(format!(
                    "could not obtain an access token for {method} {path}: {}",
                    error.message.unwrap_or_default()
                ));
                error
            })?;
        let generation = self.token_generation.fetch_add(1, Ordering::Relaxed) + 1;
        let token = CachedToken::new(value, generation);
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token if it is still the one that failed.
    async fn invalidate_token(&self, generation: u64) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().map(|token| token.generation) == Some(generation) {
            *cached = None;
        }
    }

    /// `POST /api/v1/token`: tries the grant that worked before, else `app_token` (2.19) and then
    /// `client_credentials` (newer control planes) when the first is refused as a bad request.
    async fn exchange_token(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<String, ApiError> {
        let known = *self.grant.lock().expect("grant lock poisoned");
        let grants: &[GrantType] = match known {
            Some(GrantType::AppToken) => &[GrantType::AppToken],
            Some(GrantType::ClientCredentials) => &[GrantType::ClientCredentials],
            None => &[GrantType::AppToken, GrantType::ClientCredentials],
        };
        let mut last_error = None;
        for grant in grants {
            let request = match grant {
                GrantType::AppToken => TokenRequest::AppToken {
                    app_id: client_id,
                    app_secret: client_secret,
                },
                GrantType::ClientCredentials => TokenRequest::ClientCredentials {
                    client_id,
                    client_secret,
                },
            };
            match self.post_token(&request).await {
                Ok(token) => {
                    *self.grant.lock().expect("grant lock poisoned") = Some(*grant);
                    return Ok(token);
                }
                Err(error) if error.kind == ApiErrorKind::BadRequest => last_error = Some(error),
                Err(mut error) => {
                    if matches!(
                        error.kind,
                        ApiErrorKind::Unauthorized | ApiErrorKind::Forbidden
                    ) {
                        error.message = Some(self.describe_auth_failure(&error));
                    }
                    return Err(error);
                }
            }
        }
        Err(last_error.expect("at least one grant was tried"))
    }

    /// One token request, with retries for the transient statuses.
    async fn post_token(&self, request: &TokenRequest<'_>) -> Result<String, ApiError> {
        const PATH: &str = "/api/v1/token";
        let body = serde_json::to_vec(request).expect("a token request always encodes");
        let url = format!("{}{}", self.config.base_url, PATH);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let attempt_started = Instant::now();
            let sent = self
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone())
                .send()
                .await;
            let duration_ms = attempt_started.elapsed().as_millis() as u64;
            let (retry_after, failure) = match sent {
                Ok(response) if response.status().is_success() => {
                    log_call(
                        &Method::POST,
                        PATH,
                        Some(response.status().as_u16()),
                        attempt,
                        duration_ms,
                    );
                    let answer: TokenResponse =
                        decode_answer(response, "POST", PATH, attempt).await?;
                    return Ok(answer.access_token);
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    log_call(&Method::POST, PATH, Some(status), attempt, duration_ms);
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(retry::parse_retry_after);
                    let mut error = error_from_response(response, "POST", PATH).await;
                    error.attempts = attempt;
                    if !retry::is_retryable_status(status) {
                        return Err(error);
                    }
                    (retry_after, error)
                }
                Err(error) => {
                    log_call(&Method::POST, PATH, None, attempt, duration_ms);
                    let mut api_error = ApiError::new(
                        ApiErrorKind::Transport,
                        "POST",
                        PATH,
                        describe_transport_error(&error),
                    );
                    api_error.attempts = attempt;
                    if is_certificate_failure(&error) {
                        return Err(api_error);
                    }
                    (None, api_error)
                }
            };
            // Asking for a token twice is harmless, so every transient failure is retried.
            let wait = self.config.retry.backoff(attempt, retry_after);
            if !self.config.retry.allows(attempt, wait, started) {
                return Err(failure);
            }
            self.note_retry(&Method::POST, PATH, attempt, wait, "token exchange");
            tokio::time::sleep(wait).await;
        }
    }
}

/// The path of one registry; the id is percent-encoded so that no input can change the route.
fn registry_path(id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("/api/v1/asset/registries/{encoded}")
}

/// True when the URL's host is a loopback address or `localhost`: the one place where credentials
/// may travel over plain HTTP without the user's explicit consent.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

/// Whether a registry found after a create of unknown outcome was created by that create: it must
/// point at the same URL with the same user and description and workload types, and have been created no earlier than the create began
/// (less the clock-skew allowance). A registry that existed before would have made the create a 409.
fn created_by_this_call(
    registry: &Registry,
    request: &RegistryCreationRequest,
    started_at: OffsetDateTime,
) -> bool {
    registry.spec.url == request.spec.url
        && registry.spec.user == request.spec.user
        && registry.meta.description == request.meta.description
        && registry
            .meta
            .workload_supported_types
            .clone()
            .unwrap_or_default()
            == request
                .meta
                .workload_supported_types
                .clone()
                .unwrap_or_default()
        && OffsetDateTime::parse(&registry.meta.created_at, &Rfc3339)
            .map(|created_at| created_at >= started_at - CLOCK_SKEW_ALLOWANCE)
            .unwrap_or(false)
}

/// The error of a create whose outcome is unknown and whose follow-up lookup failed too: the create's
/// error, with a warning that the registry may exist.
fn lookup_failed(mut error: ApiError, lookup_error: &ApiError) -> ApiError {
    error.message = Some(format!(
        "{}; the registry may have been created, and looking it up failed as well ({lookup_error}): \
         check the control plane before applying again",
        error.message.unwrap_or_default()
    ));
    error
}

/// The 409 a user sees when the name is taken by a registry this provider did not just create.
fn conflict_error(
    request: &RegistryCreationRequest,
    existing: &Registry,
    attempts: u32,
) -> ApiError {
    let mut error = ApiError::from_status(
        "POST",
        "/api/v1/asset/registries",
        409,
        Some(format!(
            "a registry named {:?} already exists in scope {} with id {}",
            request.meta.name, request.meta.scope, existing.meta.id
        )),
        None,
    );
    error.attempts = attempts;
    error.existing_id = Some(existing.meta.id.clone());
    error
}

/// Reads a success body, bounded in size, and decodes it.
async fn decode_answer<Answer: DeserializeOwned>(
    response: reqwest::Response,
    method: &str,
    path: &str,
    attempt: u32,
) -> Result<Answer, ApiError> {
    let status = response.status().as_u16();
    let bytes = read_bounded(response).await.map_err(|message| {
        let mut error = ApiError::new(ApiErrorKind::Decode, method, path, message);
        error.status = Some(status);
        error.attempts = attempt;
        error
    })?;
    decode_body(&bytes).map_err(|message| {
        let mut error = ApiError::new(ApiErrorKind::Decode, method, path, message);
        error.status = Some(status);
        error.attempts = attempt;
        error
    })
}

/// Decodes a success body. An empty body decodes as JSON `null`, so that answers without content
/// (a 204) fit `IgnoredAny`; for every other type it is the clear error it should be.
pub fn decode_body<Answer: DeserializeOwned>(bytes: &[u8]) -> Result<Answer, String> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"null"[..]
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|error| {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            "the answer had an empty body where the contract promises JSON".to_owned()
        } else if bytes.first() == Some(&b'<') {
            format!(
                "the answer was an HTML or XML page of {} bytes, not the JSON the contract promises \
                 (is base_url pointing at the Run:ai control plane?)",
                bytes.len()
            )
        } else {
            format!("the answer does not match the contract: {error}")
        }
    })
}

/// Builds the error for a non-success answer from the contract's `Error` body, if there is one.
async fn error_from_response(response: reqwest::Response, method: &str, path: &str) -> ApiError {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = read_bounded(response).await.unwrap_or_default();
    let (message, details) = match serde_json::from_slice::<ApiErrorBody>(&bytes) {
        Ok(body) if body.message.is_some() || body.details.is_some() => {
            (body.message, body.details)
        }
        _ if bytes.is_empty() => (None, None),
        // A proxy's HTML page is not repeated: it says nothing useful and could be large.
        _ => (
            Some(format!(
                "the answer was not the API's JSON error ({} bytes of {})",
                bytes.len(),
                if content_type.is_empty() {
                    "unknown type"
                } else {
                    &content_type
                }
            )),
            None,
        ),
    };
    ApiError::from_status(method, path, status, message, details)
}

/// Reads a body chunk by chunk, refusing to hold more than [`MAX_RESPONSE_BYTES`].
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    if let Some(length) = response.content_length() {
        if length as usize > MAX_RESPONSE_BYTES {
            return Err(format!(
                "the answer's body of {length} bytes is larger than the {MAX_RESPONSE_BYTES} bytes accepted"
            ));
        }
    }
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(format!(
                        "the answer's body is larger than the {MAX_RESPONSE_BYTES} bytes accepted"
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(error) => {
                return Err(format!(
                    "the answer's body could not be read: {}",
                    describe_transport_error(&error)
                ))
            }
        }
    }
}

/// A transport failure in words, without the URL's query (which is harmless today, but a description
/// that never carries request data stays safe as the API grows).
fn describe_transport_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let what = if error.is_timeout() {
        "the request timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the answer's body could not be read"
    } else {
        "the request failed"
    };
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {}", causes.join(": "))
    }
}

/// True when TLS refused the server's certificate. That will not change by trying again, so it is
/// reported at once instead of after the whole retry budget. rustls reports it only through its
/// error's text, hence the match on words.
fn is_certificate_failure(error: &reqwest::Error) -> bool {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        if cause
            .to_string()
            .to_ascii_lowercase()
            .contains("certificate")
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Logs one API call for `TF_LOG=DEBUG`: method, path, status, attempt and duration, nothing else.
fn log_call(method: &Method, path: &str, status: Option<u16>, attempt: u32, duration_ms: u64) {
    logging::event(
        Level::Debug,
        "runai api call",
        &[
            ("method", json!(method.as_str())),
            ("path", json!(path)),
            (
                "status",
                status.map_or(json!("none"), |status| json!(status)),
            ),
            ("attempt", json!(attempt)),
            ("duration_ms", json!(duration_ms)),
        ],
    );
}
