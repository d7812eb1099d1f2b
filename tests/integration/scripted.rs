//! The client against a scripted control plane: each route answers from a queue the test writes, so
//! the rare paths of retries and of the duplicate-safe create are exercised deterministically
//! (the emulator's faults are random by ratio, so only 0 and 1 are deterministic there).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use secrecy::SecretString;
use terraform_provider_runai::client::{
    ApiClient, ApiErrorKind, ClientConfig, Credentials, RetryPolicy,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::{creation_request, runtime};

/// One scripted answer.
#[derive(Clone)]
enum Answer {
    Json(u16, String),
    Slow(Duration),
}

/// A request the server received.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    path: String,
    body: String,
}

#[derive(Default)]
struct Script {
    answers: Mutex<HashMap<String, VecDeque<Answer>>>,
    received: Mutex<Vec<Received>>,
}

impl Script {
    /// Queues answers for `METHOD /path`.
    fn answer(&self, route: &str, answers: impl IntoIterator<Item = Answer>) {
        self.answers
            .lock()
            .unwrap()
            .entry(route.to_owned())
            .or_default()
            .extend(answers);
    }

    fn received(&self, method: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|request| request.method == method)
            .cloned()
            .collect()
    }
}

async fn respond(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if path == "/api/v1/token" {
        return (StatusCode::OK, r#"{"accessToken": "opaque"}"#).into_response();
    }
    script.received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: path.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let next = script
        .answers
        .lock()
        .unwrap()
        .get_mut(&format!("{method} {path}"))
        .and_then(VecDeque::pop_front);
    match next {
        Some(Answer::Json(status, body)) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Some(Answer::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            (StatusCode::OK, "{}").into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"code": 404, "message": "nothing scripted"}"#,
        )
            .into_response(),
    }
}

/// Serves `script` on `listener` from a thread of its own.
fn serve(listener: std::net::TcpListener, script: Arc<Script>) {
    crate::support::serve_router(listener, Router::new().fallback(respond).with_state(script));
}

fn start() -> (SocketAddr, Arc<Script>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let script = Arc::new(Script::default());
    serve(listener, script.clone());
    (address, script)
}

fn client(address: SocketAddr, retry: RetryPolicy) -> ApiClient {
    let mut config = ClientConfig::new(
        format!("http://{address}"),
        Credentials::Application {
            client_id: "app".into(),
            client_secret: SecretString::from("secret".to_string()),
        },
    );
    config.retry = retry;
    config.credentials_description = "client_id \"app\" (from a test)".into();
    ApiClient::new(config).unwrap()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// A registry as the API answers it, made `created_at` ago, matching `creation_request(name)`.
fn registry_json(id: &str, name: &str, password: &str, created_ago: time::Duration) -> String {
    let created_at = (OffsetDateTime::now_utc() - created_ago)
        .format(&Rfc3339)
        .unwrap();
    let request = creation_request(name);
    serde_json::json!({
        "meta": {"name": name, "description": request.meta.description, "scope": "tenant",
                 "id": id, "kind": "registry", "createdBy": "app", "createdAt": created_at,
                 "updatedBy": "app", "updatedAt": created_at},
        "spec": {"url": request.spec.url, "credentialKind": "password", "user": request.spec.user,
                 "password": password}
    })
    .to_string()
}

fn list_json(registries: &[String]) -> String {
    format!("{{\"entries\": [{}]}}", registries.join(","))
}

const ID: &str = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f";
const REGISTRIES: &str = "/api/v1/asset/registries";

#[test]
fn transient_statuses_are_retried_until_an_answer_comes() {
    let (address, script) = start();
    let path = format!("{REGISTRIES}/{ID}");
    let unavailable = |status| {
        Answer::Json(
            status,
            format!(r#"{{"code": {status}, "message": "busy"}}"#),
        )
    };
    script.answer(
        &format!("GET {path}"),
        [
            unavailable(502),
            unavailable(504),
            unavailable(503),
            unavailable(429),
            Answer::Json(200, registry_json(ID, "r", "p", time::Duration::ZERO)),
        ],
    );
    let client = client(address, quick_retries());
    let registry = runtime().block_on(client.get_registry(ID)).unwrap();
    assert_eq!(registry.meta.id, ID);
    assert_eq!(script.received("GET").len(), 5);
    assert_eq!(client.retries(), 4);
}

#[test]
fn a_refused_connection_is_retried_until_the_server_listens() {
    // Bound but not listening: connections are refused, and no other test can take the port.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let address = socket.local_addr().unwrap().as_socket().unwrap();
    let script = Arc::new(Script::default());
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(200, list_json(&[]))],
    );
    let opener = {
        let script = script.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            socket.listen(128).unwrap();
            serve(socket.into(), script);
        })
    };
    let mut retry = quick_retries();
    retry.max_backoff = Duration::from_millis(100);
    retry.max_retries = 50;
    let client = client(address, retry);
    let registries = runtime().block_on(client.list_registries(None)).unwrap();
    opener.join().unwrap();
    assert!(registries.is_empty());
    assert!(client.retries() >= 1, "the refused attempts were retried");
}

#[test]
fn retries_stop_when_the_retry_timeout_is_spent() {
    let (address, script) = start();
    let busy = Answer::Json(503, r#"{"code": 503, "message": "busy"}"#.into());
    script.answer(
        &format!("GET {REGISTRIES}"),
        std::iter::repeat(busy).take(1000),
    );
    let client = client(
        address,
        RetryPolicy {
            max_retries: 1000,
            timeout: Duration::from_millis(600),
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        },
    );
    let started = Instant::now();
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unavailable);
    assert!(error.attempts > 2, "{error}");
    assert!(
        error.attempts < 1000,
        "the time budget, not the count, ended it"
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn a_request_slower_than_its_timeout_is_a_transport_error() {
    let (address, script) = start();
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Slow(Duration::from_secs(3))],
    );
    let mut config = ClientConfig::new(
        format!("http://{address}"),
        Credentials::StaticToken(SecretString::from("t".to_string())),
    );
    config.request_timeout = Duration::from_millis(300);
    config.retry = RetryPolicy::none();
    let client = ApiClient::new(config).unwrap();
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Transport);
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[test]
fn forbidden_says_which_credentials_lack_the_permission() {
    let (address, script) = start();
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(
            403,
            r#"{"code": 403, "message": "role viewer"}"#.into(),
        )],
    );
    let client = client(address, RetryPolicy::none());
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Forbidden);
    let text = error.to_string();
    assert!(text.contains("lacks permission"), "{text}");
    assert!(text.contains("client_id \"app\""), "{text}");
    assert!(
        text.contains("role viewer") && !text.contains("secret"),
        "{text}"
    );
}

#[test]
fn a_create_whose_answer_is_undecodable_is_adopted_and_given_the_configured_spec() {
    let (address, script) = start();
    script.answer(
        &format!("POST {REGISTRIES}"),
        [Answer::Json(201, "not json".into())],
    );
    // The control plane shows the registry with another password: the adoption must set ours.
    let found = registry_json(ID, "lost", "someone-elses", time::Duration::ZERO);
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(200, list_json(&[found]))],
    );
    let updated = registry_json(
        ID,
        "lost",
        "registry-password-for-tests",
        time::Duration::ZERO,
    );
    script.answer(
        &format!("PUT {REGISTRIES}/{ID}"),
        [Answer::Json(200, updated)],
    );
    let client = client(address, quick_retries());
    let registry = runtime()
        .block_on(client.create_registry(&creation_request("lost")))
        .unwrap();
    assert_eq!(registry.meta.id, ID);
    assert_eq!(script.received("POST").len(), 1, "never sent twice");
    let puts = script.received("PUT");
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].path, format!("{REGISTRIES}/{ID}"));
    assert!(puts[0].body.contains("registry-password-for-tests"));
}

#[test]
fn a_create_that_did_not_happen_is_sent_again_after_the_lookup() {
    let (address, script) = start();
    script.answer(
        &format!("POST {REGISTRIES}"),
        [
            Answer::Json(503, r#"{"code": 503, "message": "busy"}"#.into()),
            Answer::Json(201, registry_json(ID, "retried", "p", time::Duration::ZERO)),
        ],
    );
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(200, list_json(&[]))],
    );
    let client = client(address, quick_retries());
    let registry = runtime()
        .block_on(client.create_registry(&creation_request("retried")))
        .unwrap();
    assert_eq!(registry.meta.id, ID);
    assert_eq!(script.received("POST").len(), 2);
    assert_eq!(
        script.received("GET").len(),
        1,
        "looked up before sending again"
    );
}

#[test]
fn a_registry_created_before_the_call_is_reported_not_adopted() {
    let (address, script) = start();
    script.answer(
        &format!("POST {REGISTRIES}"),
        [Answer::Json(
            503,
            r#"{"code": 503, "message": "busy"}"#.into(),
        )],
    );
    let old = registry_json(ID, "taken", "p", time::Duration::hours(1));
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(200, list_json(&[old]))],
    );
    let client = client(address, quick_retries());
    let error = runtime()
        .block_on(client.create_registry(&creation_request("taken")))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Conflict);
    assert_eq!(error.existing_id.as_deref(), Some(ID));
    assert!(script.received("PUT").is_empty());
}

#[test]
fn a_registry_this_process_already_created_is_never_adopted_again() {
    let (address, script) = start();
    let fresh = registry_json(ID, "twice", "p", time::Duration::ZERO);
    script.answer(
        &format!("POST {REGISTRIES}"),
        [
            Answer::Json(201, fresh.clone()),
            Answer::Json(503, r#"{"code": 503, "message": "busy"}"#.into()),
        ],
    );
    script.answer(
        &format!("GET {REGISTRIES}"),
        [Answer::Json(200, list_json(&[fresh]))],
    );
    let client = client(address, quick_retries());
    let runtime = runtime();
    runtime
        .block_on(client.create_registry(&creation_request("twice")))
        .unwrap();
    // A second resource declaring the same registry must not take over the first one's.
    let error = runtime
        .block_on(client.create_registry(&creation_request("twice")))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Conflict);
    assert_eq!(error.existing_id.as_deref(), Some(ID));
}
