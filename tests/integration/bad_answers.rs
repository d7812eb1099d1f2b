//! Answers that break the contract: malformed JSON, missing fields, HTML pages, empty and huge
//! bodies. Each must come back as a clear `Decode` (or status) error, never a panic or a hang; a
//! property test feeds the response decoders arbitrary bytes and arbitrary JSON.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use proptest::prelude::*;
use secrecy::SecretString;
use terraform_provider_runai::client::{
    decode_body, ApiClient, ApiErrorBody, ApiErrorKind, ClientConfig, Credentials, Registry,
    RegistryListResponse, Repositories, RepositoryTags, RetryPolicy, MAX_RESPONSE_BYTES,
};

/// The canned answer for a registry id.
async fn canned(Path(id): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let json = |status: StatusCode, body: &'static str| {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    match id.as_str() {
        "malformed" => json(StatusCode::OK, r#"{"meta": {"name": "#),
        "missing-fields" => json(StatusCode::OK, r#"{"meta": {"name": "x"}, "spec": {}}"#),
        "wrong-type" => json(StatusCode::OK, "[1, 2, 3]"),
        "empty" => (StatusCode::OK, "").into_response(),
        "html" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Welcome to the login page</body></html>",
        )
            .into_response(),
        "html-error" => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response(),
        "huge" => json(StatusCode::OK, "")
            .map(|_| axum::body::Body::from(vec![b' '; MAX_RESPONSE_BYTES + 1024])),
        // Echoes the User-Agent in an error message, so a test can see what the client sends.
        "user-agent" => {
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("none")
                .to_owned();
            let body = serde_json::json!({"code": 404, "message": agent}).to_string();
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        "always-unauthorized" => json(
            StatusCode::UNAUTHORIZED,
            r#"{"code": 401, "message": "token is not valid"}"#,
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            r#"{"code": 404, "message": "no such registry"}"#,
        ),
    }
}

/// Starts the canned server on its own thread; it lives as long as the test process. The counter
/// says how many tokens it issued.
fn canned_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let tokens_issued = Arc::new(AtomicUsize::new(0));
    let counter = tokens_issued.clone();
    let app = Router::new()
        .route(
            "/api/v1/token",
            post(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                r#"{"accessToken": "opaque"}"#
            }),
        )
        .route("/api/v1/asset/registries/:id", get(canned));
    let address = crate::support::serve_router_on_free_port(app);
    (address, tokens_issued)
}

fn client(address: SocketAddr) -> Arc<ApiClient> {
    let mut config = ClientConfig::new(
        format!("http://{address}"),
        Credentials::Application {
            client_id: "app".into(),
            client_secret: SecretString::from("secret".to_string()),
        },
    );
    config.retry = RetryPolicy::none();
    Arc::new(ApiClient::new(config).unwrap())
}

#[test]
fn contract_breaking_answers_are_clear_errors() {
    let client = client(canned_server().0);
    let runtime = crate::support::runtime();
    let cases = [
        (
            "malformed",
            ApiErrorKind::Decode,
            "does not match the contract",
        ),
        ("missing-fields", ApiErrorKind::Decode, "missing field"),
        (
            "wrong-type",
            ApiErrorKind::Decode,
            "does not match the contract",
        ),
        ("empty", ApiErrorKind::Decode, "empty body"),
        ("html", ApiErrorKind::Decode, "HTML"),
        ("huge", ApiErrorKind::Decode, "larger than"),
        (
            "html-error",
            ApiErrorKind::Unavailable,
            "not the API's JSON error",
        ),
        ("unknown", ApiErrorKind::NotFound, "no such registry"),
    ];
    for (id, kind, phrase) in cases {
        let error = runtime.block_on(client.get_registry(id)).unwrap_err();
        assert_eq!(error.kind, kind, "{id}: {error}");
        assert!(error.to_string().contains(phrase), "{id}: {error}");
        assert!(error
            .to_string()
            .contains(&format!("/api/v1/asset/registries/{id}")));
    }
}

/// A control plane newer than 2.19 that refuses the `app_token` grant and takes only
/// `client_credentials`; it records the grant types it was asked for.
fn client_credentials_only_server() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let grants = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = grants.clone();
    let token = move |body: axum::body::Bytes| async move {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let grant = request["grantType"].as_str().unwrap_or("").to_owned();
        recorded.lock().unwrap().push(grant.clone());
        if grant == "client_credentials" && request["clientId"] == "app" {
            (StatusCode::OK, r#"{"accessToken": "opaque"}"#)
        } else {
            (
                StatusCode::BAD_REQUEST,
                r#"{"code": 400, "message": "unsupported grantType"}"#,
            )
        }
    };
    let app = Router::new()
        .route("/api/v1/token", post(token))
        .route("/api/v1/asset/registries/:id", get(canned));
    let address = crate::support::serve_router_on_free_port(app);
    (address, grants)
}

#[test]
fn a_control_plane_without_app_tokens_is_asked_for_client_credentials() {
    let (address, grants) = client_credentials_only_server();
    let client = client(address);
    let runtime = crate::support::runtime();
    // A 404 from the registry route proves that a token was obtained and accepted.
    let error = runtime
        .block_on(client.get_registry("unknown"))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::NotFound, "{error}");
    assert_eq!(
        *grants.lock().unwrap(),
        ["app_token", "client_credentials"],
        "2.19's grant first, then the newer one"
    );
}

#[test]
fn every_request_names_the_provider_and_its_version() {
    let client = client(canned_server().0);
    let error = crate::support::runtime()
        .block_on(client.get_registry("user-agent"))
        .unwrap_err();
    assert_eq!(
        error.message.as_deref(),
        Some(concat!(
            "terraform-provider-runai/",
            env!("CARGO_PKG_VERSION")
        ))
    );
}

#[test]
fn a_401_renews_the_token_once_and_a_second_401_is_a_clear_error() {
    let (address, tokens_issued) = canned_server();
    let client = client(address);
    let runtime = crate::support::runtime();
    let error = runtime
        .block_on(client.get_registry("always-unauthorized"))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unauthorized);
    assert_eq!(
        error.attempts, 2,
        "the request was repeated once with a new token"
    );
    assert_eq!(tokens_issued.load(Ordering::SeqCst), 2, "one renewal");
    let text = error.to_string();
    assert!(
        text.contains("rejected") && text.contains("token is not valid"),
        "{text}"
    );
}

/// Arbitrary JSON values, nested a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-zA-Z0-9 *<>]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("meta".to_owned()),
                    Just("spec".to_owned()),
                    Just("entries".to_owned()),
                    Just("name".to_owned()),
                    Just("password".to_owned()),
                    Just("repositories".to_owned()),
                    Just("tags".to_owned()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No sequence of bytes makes a decoder panic; each gives a value or a message.
    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_body::<Registry>(&bytes);
        let _ = decode_body::<RegistryListResponse>(&bytes);
        let _ = decode_body::<Repositories>(&bytes);
        let _ = decode_body::<RepositoryTags>(&bytes);
        let _ = decode_body::<ApiErrorBody>(&bytes);
    }

    /// Arbitrary JSON either decodes into a registry that encodes and decodes back to itself, or
    /// fails with a message; it never panics.
    #[test]
    fn decoded_registries_round_trip(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        match decode_body::<Registry>(&bytes) {
            Ok(registry) => {
                let again: Registry = decode_body(&serde_json::to_vec(&registry).unwrap()).unwrap();
                prop_assert_eq!(again, registry);
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
        let _ = decode_body::<RegistryListResponse>(&bytes);
        let _ = decode_body::<RepositoryTags>(&bytes);
    }
}
