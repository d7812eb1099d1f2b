//! Repositories and tags listed live from a real OCI registry (Debian's docker-registry).

use std::time::Instant;

use reqwest::StatusCode;
use runai_emulator::oci_fixture::OciRegistry;
use serde_json::{json, Value};

use crate::support::{id_of, registry_path, Api};

/// A creation request for a registry asset pointing at `url` with the given credentials.
fn asset(name: &str, url: &str, user: &str, password: &str) -> Value {
    json!({
        "meta": {"name": name, "scope": "tenant"},
        "spec": {"url": url, "credentialKind": "password", "user": user, "password": password}
    })
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn lists_more_than_a_page_of_repositories_and_tags_and_filters_them() {
    let registry = OciRegistry::start().expect("docker-registry starts");
    let started = Instant::now();
    let repositories: Vec<String> = (0..150)
        .map(|index| format!("team/app-{index:03}"))
        .collect();
    for repository in &repositories {
        registry.push_image(repository, &["latest"]).expect("push");
    }
    let tags: Vec<String> = (0..150).map(|index| format!("v{index:03}")).collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    registry
        .push_image("team/app-000", &tag_refs)
        .expect("push tags");
    eprintln!(
        "pushed 150 repositories and 150 tags in {:?}",
        started.elapsed()
    );

    let api = Api::start();
    let created = api.create(asset(
        "local",
        &registry.url,
        &registry.user,
        &registry.password,
    ));
    let base = format!("{}/repositories", registry_path(&id_of(&created)));

    let listed = api.get(&base).expect(StatusCode::OK);
    let mut listed = strings(&listed["repositories"]);
    listed.sort();
    assert_eq!(listed, repositories, "all 150 repositories, across pages");

    let searched = api
        .get(&format!("{base}?searchName=app-01"))
        .expect(StatusCode::OK);
    let expected: Vec<String> = (10..20)
        .map(|index| format!("team/app-{index:03}"))
        .collect();
    assert_eq!(strings(&searched["repositories"]), expected);

    let tag_answer = api
        .get(&format!("{base}/tags?repository=team/app-000"))
        .expect(StatusCode::OK);
    assert_eq!(tag_answer["name"], "team/app-000");
    let mut listed_tags = strings(&tag_answer["tags"]);
    listed_tags.sort();
    let mut expected_tags = tags.clone();
    expected_tags.push("latest".to_string());
    expected_tags.sort();
    assert_eq!(listed_tags, expected_tags, "all 151 tags");

    let searched_tags = api
        .get(&format!(
            "{base}/tags?repository=team/app-000&searchName=v14"
        ))
        .expect(StatusCode::OK);
    let mut searched_tags = strings(&searched_tags["tags"]);
    searched_tags.sort();
    assert_eq!(
        searched_tags,
        (140..150)
            .map(|index| format!("v{index:03}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn registry_failures_are_clear_bad_requests_without_the_password() {
    let registry = OciRegistry::start().expect("docker-registry starts");
    registry.push_image("solo", &["1.0"]).expect("push");
    let api = Api::start();

    // A wrong password: the registry refuses, and the message names the URL but not the password.
    let wrong = api.create(asset(
        "wrong",
        &registry.url,
        &registry.user,
        "definitely-wrong-password",
    ));
    let answer = api.get(&format!("{}/repositories", registry_path(&id_of(&wrong))));
    assert!(
        !answer.text.contains("definitely-wrong-password"),
        "{}",
        answer.text
    );
    let message = answer.expect_error(StatusCode::BAD_REQUEST);
    assert!(
        message.contains(&registry.url) && message.contains("refused"),
        "{message}"
    );

    // An unknown repository.
    let good = api.create(asset(
        "good",
        &registry.url,
        &registry.user,
        &registry.password,
    ));
    let tags = format!("{}/repositories/tags", registry_path(&id_of(&good)));
    let message = api
        .get(&format!("{tags}?repository=missing"))
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(
        message.contains("\"missing\" was not found") && message.contains(&registry.url),
        "{message}"
    );
    let found = api
        .get(&format!("{tags}?repository=solo"))
        .expect(StatusCode::OK);
    assert_eq!(found, json!({"name": "solo", "tags": ["1.0"]}));

    // An unreachable registry: a port that is bound but never listens, so connections are refused
    // and no other test can take it while the socket lives.
    let closed =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    closed
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .expect("address")
                .into(),
        )
        .expect("bind");
    let closed_port = closed
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("an IP address")
        .port();
    let unreachable_url = format!("http://127.0.0.1:{closed_port}");
    let unreachable = api.create(asset(
        "unreachable",
        &unreachable_url,
        "user",
        "unreachable-password",
    ));
    let answer = api.get(&format!(
        "{}/repositories",
        registry_path(&id_of(&unreachable))
    ));
    assert!(
        !answer.text.contains("unreachable-password"),
        "{}",
        answer.text
    );
    let message = answer.expect_error(StatusCode::BAD_REQUEST);
    assert!(
        message.contains("could not reach registry at") && message.contains(&unreachable_url),
        "{message}"
    );

    // A URL without a scheme means https, which this plain-http registry cannot speak.
    let without_scheme = registry.url.trim_start_matches("http://").to_string();
    let https = api.create(asset(
        "https",
        &without_scheme,
        &registry.user,
        &registry.password,
    ));
    let message = api
        .get(&format!("{}/repositories", registry_path(&id_of(&https))))
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(message.contains(&without_scheme), "{message}");
}

#[test]
fn a_missing_registry_binary_is_explained() {
    let missing = std::path::Path::new("/nonexistent/docker-registry");
    let error = OciRegistry::start_with_binary(missing)
        .err()
        .expect("a missing binary fails");
    let message = error.to_string();
    assert!(
        message.contains("install Debian package docker-registry"),
        "{message}"
    );
    assert!(
        message.contains("/nonexistent/docker-registry"),
        "{message}"
    );
}
