//! `Link` pagination against a scripted fake OCI registry, which pages both listings (Debian's
//! docker-registry 2.8 pages only the catalog) and can send links the emulator must refuse to follow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::support::{id_of, registry_path, Api};

const USER: &str = "pager";
const PASSWORD: &str = "pager-password";

struct FakeRegistry {
    base_url: String,
    repositories: Vec<String>,
    tags: Vec<String>,
    requests: AtomicUsize,
}

/// Serves a fake registry on a runtime owned by the caller; the server stops when the runtime is dropped.
fn start_fake_registry(runtime: &tokio::runtime::Runtime) -> Arc<FakeRegistry> {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let fake = Arc::new(FakeRegistry {
        base_url: format!("http://{address}"),
        repositories: (0..250).map(|index| format!("repo-{index:03}")).collect(),
        tags: (0..230).map(|index| format!("tag-{index:03}")).collect(),
        requests: AtomicUsize::new(0),
    });
    let router = Router::new()
        .route("/v2/_catalog", get(catalog))
        .route("/v2/*rest", get(tags))
        .with_state(fake.clone());
    runtime.spawn(async move { axum::serve(listener, router).await });
    fake
}

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        == Some(expected.as_str())
}

/// One page of `items` after `last`, at most `n` long, and whether more follow.
fn page(items: &[String], query: &HashMap<String, String>) -> (Vec<String>, bool) {
    let size: usize = query
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(
        size <= 100,
        "the emulator asks for pages of at most 100, got {size}"
    );
    let start = match query.get("last") {
        Some(last) => {
            items
                .iter()
                .position(|item| item == last)
                .expect("a known last")
                + 1
        }
        None => 0,
    };
    let end = (start + size).min(items.len());
    (items[start..end].to_vec(), end < items.len())
}

fn with_link(body: Value, link: Option<String>) -> Response {
    let mut response = Json(body).into_response();
    if let Some(link) = link {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).expect("a header value"),
        );
    }
    response
}

async fn catalog(
    State(fake): State<Arc<FakeRegistry>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (repositories, more) = page(&fake.repositories, &query);
    // A relative link, as docker-registry sends.
    let link = more.then(|| {
        format!(
            "</v2/_catalog?last={}&n={}>; rel=\"next\"",
            repositories.last().expect("a page"),
            query["n"]
        )
    });
    with_link(json!({ "repositories": repositories }), link)
}

async fn tags(
    State(fake): State<Arc<FakeRegistry>>,
    headers: HeaderMap,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(name) = rest.strip_suffix("/tags/list") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if name == "evil" {
        // A link to another origin, which would receive the credentials.
        let link =
            "<http://attacker.invalid/v2/evil/tags/list?last=a&n=100>; rel=\"next\"".to_string();
        return with_link(json!({ "name": name, "tags": ["a"] }), Some(link));
    }
    if name != "repo-007" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (tags, more) = page(&fake.tags, &query);
    // An absolute link, as some registries send.
    let link = more.then(|| {
        format!(
            "<{}/v2/{name}/tags/list?n={}&last={}>; rel=\"next\"",
            fake.base_url,
            query["n"],
            tags.last().expect("a page")
        )
    });
    with_link(json!({ "name": name, "tags": tags }), link)
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).expect("a list of strings")
}

#[test]
fn relative_and_absolute_next_links_are_followed_to_the_last_page() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = start_fake_registry(&runtime);
    let api = Api::start();
    let created = api.create(json!({
        "meta": {"name": "fake", "scope": "tenant"},
        "spec": {"url": fake.base_url, "credentialKind": "password", "user": USER, "password": PASSWORD}
    }));
    let base = format!("{}/repositories", registry_path(&id_of(&created)));

    let repositories = api.get(&base).expect(StatusCode::OK);
    assert_eq!(strings(&repositories["repositories"]), fake.repositories);
    assert_eq!(
        fake.requests.load(Ordering::SeqCst),
        3,
        "250 repositories take 3 pages of 100"
    );

    let tags = api
        .get(&format!("{base}/tags?repository=repo-007"))
        .expect(StatusCode::OK);
    assert_eq!(tags["name"], "repo-007");
    assert_eq!(strings(&tags["tags"]), fake.tags);
    assert_eq!(
        fake.requests.load(Ordering::SeqCst),
        6,
        "230 tags take 3 pages of 100"
    );

    let searched = api
        .get(&format!("{base}/tags?repository=repo-007&searchName=-22"))
        .expect(StatusCode::OK);
    assert_eq!(
        strings(&searched["tags"]),
        (220..230)
            .map(|index| format!("tag-{index:03}"))
            .collect::<Vec<_>>()
    );

    let message = api
        .get(&format!("{base}/tags?repository=evil"))
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(message.contains("foreign Link"), "{message}");
}
