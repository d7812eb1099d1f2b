//! The HTTP routes: the seven contract operations, the token exchange and the `/_emulator/` admin API.
//!
//! Layering, from the outside in: request logging and the total counter, the per-operation counter, fault
//! injection (asset routes only), then the handler, whose first extractor checks the bearer token.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{async_trait, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{bearer_token, parse_token_request};
use crate::config::{Faults, PasswordMode};
use crate::emulator::{read, Emulator};
use crate::error::ApiError;
use crate::oci::{self, RegistryAccess};
use crate::stats::Operation;
use crate::store::not_found;
use crate::validate::{parse_asset_id, parse_creation, parse_json, parse_update};

const REGISTRIES: &str = "/api/v1/asset/registries";
const REGISTRY: &str = "/api/v1/asset/registries/:asset_id";
const REPOSITORIES: &str = "/api/v1/asset/registries/:asset_id/repositories";
const TAGS: &str = "/api/v1/asset/registries/:asset_id/repositories/tags";
const TOKEN: &str = "/api/v1/token";

/// Builds the whole HTTP API of `emulator`.
pub fn router(emulator: Emulator) -> Router {
    let assets = Router::new()
        .route(REGISTRIES, get(list_registries).post(create_registry))
        .route(
            REGISTRY,
            get(get_registry)
                .put(update_registry)
                .delete(delete_registry),
        )
        .route(REPOSITORIES, get(get_repositories))
        .route(TAGS, get(get_repository_tags))
        // `route_layer` runs after routing, so unknown paths get a plain 404 and no fault.
        .route_layer(middleware::from_fn_with_state(
            emulator.clone(),
            crate::faults::inject,
        ));
    let admin = Router::new()
        .route("/_emulator/stats", get(admin_stats))
        .route(
            "/_emulator/faults",
            get(admin_get_faults).put(admin_set_faults),
        )
        .route(
            "/_emulator/password-mode",
            get(admin_get_password_mode).put(admin_set_password_mode),
        )
        .route("/_emulator/revoke-tokens", post(admin_revoke_tokens));
    Router::new()
        .merge(assets)
        .route(TOKEN, post(token))
        .route_layer(middleware::from_fn_with_state(
            emulator.clone(),
            count_operation,
        ))
        .merge(admin)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            emulator.clone(),
            log_and_count,
        ))
        .with_state(emulator)
}

/// The operation a matched route and method stand for.
fn operation_of(method: &Method, matched_path: &str) -> Option<Operation> {
    let operation = match (matched_path, method.as_str()) {
        (REGISTRIES, "GET") => Operation::ListRegistries,
        (REGISTRIES, "POST") => Operation::CreateRegistry,
        (REGISTRY, "GET") => Operation::GetRegistryById,
        (REGISTRY, "PUT") => Operation::UpdateRegistry,
        (REGISTRY, "DELETE") => Operation::DeleteRegistry,
        (REPOSITORIES, "GET") => Operation::GetRepositories,
        (TAGS, "GET") => Operation::GetRepositoryTags,
        (TOKEN, "POST") => Operation::Token,
        _ => return None,
    };
    Some(operation)
}

/// Middleware counting each request to a known operation, before any fault can answer it, and recording
/// when asset calls arrive and are answered (injected latency and faults included).
async fn count_operation(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    let arrived = Instant::now();
    let matched_path = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let operation = matched_path.and_then(|path| operation_of(request.method(), path));
    if let Some(operation) = operation {
        emulator.inner.stats.count_operation(operation);
    }
    let response = next.run(request).await;
    if operation.is_some_and(|operation| operation != Operation::Token) {
        emulator
            .inner
            .stats
            .record_asset_call(arrived, Instant::now());
    }
    response
}

/// Middleware logging every request (method, path, status, duration; never headers or bodies, which may
/// hold secrets) and counting the API ones.
async fn log_and_count(State(emulator): State<Emulator>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    if path.starts_with("/api/") {
        emulator.inner.stats.count_request();
    }
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

/// The authenticated caller of a request: extracting it checks the bearer token (401 otherwise).
struct Caller {
    /// The token's subject, i.e. the client id; it becomes `createdBy`/`updatedBy`.
    subject: String,
}

#[async_trait]
impl FromRequestParts<Emulator> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, emulator: &Emulator) -> Result<Self, ApiError> {
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default());
        let token = bearer_token(header_value)?;
        if emulator.inner.static_token.as_deref() == Some(token) {
            return Ok(Caller {
                subject: emulator.inner.client_id.clone(),
            });
        }
        let subject = emulator.tokens().subject_of(token).ok_or_else(|| {
            ApiError::unauthorized("the access token is invalid, expired or revoked")
        })?;
        Ok(Caller { subject })
    }
}

/// Turns a malformed query string into the contract's 400.
fn query<T>(extracted: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    extracted.map(|Query(value)| value).map_err(|rejection| {
        ApiError::bad_request(format!("invalid query string: {}", rejection.body_text()))
    })
}

/// Turns a body that cannot be read (too large, broken stream) into the contract's error shape.
fn request_body(extracted: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    extracted.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
}

/// Checks the `{AssetId}` path parameter (400 unless it is a UUID).
fn asset_id(extracted: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(text) = extracted.map_err(|rejection| {
        ApiError::bad_request(format!("AssetId: {}", rejection.body_text()))
    })?;
    parse_asset_id(&text)
}

fn password_mode(emulator: &Emulator) -> PasswordMode {
    *read(&emulator.inner.password_mode)
}

#[derive(Deserialize)]
struct ListQuery {
    name: Option<String>,
}

async fn list_registries(
    State(emulator): State<Emulator>,
    _caller: Caller,
    list_query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ListQuery { name } = query(list_query)?;
    let mode = password_mode(&emulator);
    let entries: Vec<serde_json::Value> = emulator
        .store()
        .all()
        .iter()
        .filter(|registry| {
            name.as_ref()
                .map_or(true, |name| &registry.meta.name == name)
        })
        .map(|registry| registry.to_api_json(mode))
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

async fn create_registry(
    State(emulator): State<Emulator>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let new = parse_creation(&request_body(body)?)?;
    let created = emulator
        .store()
        .create(new, &caller.subject, emulator.inner.tenant_id)?;
    tracing::info!(id = %created.meta.id, name = %created.meta.name, "registry created");
    Ok((
        StatusCode::CREATED,
        Json(created.to_api_json(password_mode(&emulator))),
    ))
}

async fn get_registry(
    State(emulator): State<Emulator>,
    _caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = asset_id(path)?;
    let mode = password_mode(&emulator);
    let store = emulator.store();
    let registry = store.get(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(registry.to_api_json(mode)))
}

async fn update_registry(
    State(emulator): State<Emulator>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = asset_id(path)?;
    let update = parse_update(&request_body(body)?)?;
    let updated = emulator.store().update(&id, update, &caller.subject)?;
    tracing::info!(%id, name = %updated.meta.name, "registry updated");
    Ok(Json(updated.to_api_json(password_mode(&emulator))))
}

async fn delete_registry(
    State(emulator): State<Emulator>,
    _caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = asset_id(path)?;
    emulator.store().delete(&id)?;
    tracing::info!(%id, "registry deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoriesQuery {
    search_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagsQuery {
    repository: Option<String>,
    search_name: Option<String>,
}

/// The URL and credentials of registry `id`, copied so that no lock is held during the slow OCI calls.
fn registry_access(emulator: &Emulator, id: &str) -> Result<(String, String, String), ApiError> {
    let store = emulator.store();
    let registry = store.get(id).ok_or_else(|| not_found(id))?;
    Ok((
        registry.spec.url.clone(),
        registry.spec.user.clone(),
        registry.spec.password.clone(),
    ))
}

async fn get_repositories(
    State(emulator): State<Emulator>,
    _caller: Caller,
    path: Result<Path<String>, PathRejection>,
    repositories_query: Result<Query<RepositoriesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = asset_id(path)?;
    let RepositoriesQuery { search_name } = query(repositories_query)?;
    let (url, user, password) = registry_access(&emulator, &id)?;
    let access = RegistryAccess {
        url: &url,
        user: &user,
        password: &password,
    };
    let repositories = oci::list_repositories(&emulator.inner.http, &access).await?;
    let repositories = oci::filter_by_search(repositories, search_name.as_deref());
    Ok(Json(json!({ "repositories": repositories })))
}

async fn get_repository_tags(
    State(emulator): State<Emulator>,
    _caller: Caller,
    path: Result<Path<String>, PathRejection>,
    tags_query: Result<Query<TagsQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = asset_id(path)?;
    let TagsQuery {
        repository,
        search_name,
    } = query(tags_query)?;
    let repository = repository
        .filter(|repository| !repository.is_empty())
        .ok_or_else(|| ApiError::bad_request("repository: is required"))?;
    let (url, user, password) = registry_access(&emulator, &id)?;
    let access = RegistryAccess {
        url: &url,
        user: &user,
        password: &password,
    };
    let tags = oci::list_tags(&emulator.inner.http, &access, &repository).await?;
    let tags = oci::filter_by_search(tags, search_name.as_deref());
    Ok(Json(json!({ "name": repository, "tags": tags })))
}

async fn token(
    State(emulator): State<Emulator>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credentials = parse_token_request(&request_body(body)?)?;
    let inner = &emulator.inner;
    if credentials.id != inner.client_id || credentials.secret != inner.client_secret {
        tracing::warn!(client_id = %credentials.id, "token request with wrong credentials");
        return Err(ApiError::unauthorized("invalid client credentials"));
    }
    let access_token = emulator.tokens().issue(&credentials.id, inner.token_ttl);
    Ok(Json(json!({ "accessToken": access_token })))
}

async fn admin_stats(State(emulator): State<Emulator>) -> Json<serde_json::Value> {
    Json(emulator.stats())
}

async fn admin_get_faults(State(emulator): State<Emulator>) -> Json<Faults> {
    Json(emulator.faults())
}

async fn admin_set_faults(
    State(emulator): State<Emulator>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Faults>, ApiError> {
    let faults: Faults = parse_json(&request_body(body)?)?;
    faults.validate().map_err(ApiError::bad_request)?;
    emulator.set_faults(faults.clone());
    tracing::info!(?faults, "faults changed");
    Ok(Json(faults))
}

#[derive(Deserialize)]
struct PasswordModeBody {
    mode: String,
}

async fn admin_get_password_mode(State(emulator): State<Emulator>) -> Json<serde_json::Value> {
    Json(json!({ "mode": emulator.password_mode().as_str() }))
}

async fn admin_set_password_mode(
    State(emulator): State<Emulator>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let PasswordModeBody { mode } = parse_json(&request_body(body)?)?;
    let mode: PasswordMode = mode
        .parse()
        .map_err(|problem: String| ApiError::bad_request(format!("mode: {problem}")))?;
    emulator.set_password_mode(mode);
    tracing::info!(%mode, "password mode changed");
    Ok(Json(json!({ "mode": mode.as_str() })))
}

async fn admin_revoke_tokens(State(emulator): State<Emulator>) -> StatusCode {
    emulator.revoke_tokens();
    tracing::info!("all issued tokens revoked");
    StatusCode::NO_CONTENT
}
