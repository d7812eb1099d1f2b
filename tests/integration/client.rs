//! The API client against the emulator: every operation of the contract, every error class the
//! caller branches on, token renewal, retries and the duplicate-safe create.

use std::time::Duration;

use runai_emulator::{EmulatorConfig, Faults};
use secrecy::SecretString;
use terraform_provider_runai::client::{
    ApiClient, ApiErrorKind, AssetUpdateRequest, ClientConfig, Credentials, RegistryUpdateRequest,
    RetryPolicy, Scope,
};

use crate::support::{client, client_config, creation_request, emulator, emulator_with, runtime};

#[test]
fn every_operation_round_trips() {
    let emulator = emulator();
    let client = client(&emulator);
    runtime().block_on(async {
        let created = client
            .create_registry(&creation_request("round-trip"))
            .await
            .expect("create");
        assert_eq!(created.meta.name, "round-trip");
        assert_eq!(created.meta.kind, "registry");
        assert_eq!(created.meta.scope, Scope::Tenant);
        assert_eq!(created.meta.created_by, "runai-emulator");

        let read = client.get_registry(&created.meta.id).await.expect("get");
        assert_eq!(read.meta, created.meta);

        let listed = client.list_registries(None).await.expect("list");
        assert_eq!(listed.len(), 1);
        let by_name = client
            .list_registries(Some("round-trip"))
            .await
            .expect("list by name");
        assert_eq!(by_name.len(), 1);
        assert!(client
            .list_registries(Some("other"))
            .await
            .unwrap()
            .is_empty());

        let mut spec = creation_request("round-trip").spec;
        spec.user = "another-robot".into();
        let updated = client
            .update_registry(
                &created.meta.id,
                &RegistryUpdateRequest {
                    meta: AssetUpdateRequest {
                        name: "renamed".into(),
                        description: None,
                    },
                    spec,
                },
            )
            .await
            .expect("update");
        assert_eq!(updated.meta.id, created.meta.id);
        assert_eq!(updated.meta.name, "renamed");
        assert_eq!(updated.spec.user, "another-robot");

        client
            .delete_registry(&created.meta.id)
            .await
            .expect("delete");
        let gone = client.get_registry(&created.meta.id).await.unwrap_err();
        assert_eq!(gone.kind, ApiErrorKind::NotFound);
        assert_eq!(gone.status, Some(404));
        // Deleting what is already gone is the state the caller asked for.
        client
            .delete_registry(&created.meta.id)
            .await
            .expect("second delete");
    });
}

#[test]
fn error_classes_carry_method_path_status_and_the_api_message() {
    let emulator = emulator();
    let client = client(&emulator);
    runtime().block_on(async {
        // 400: the API's validation message comes through.
        let mut invalid = creation_request("bad");
        invalid.meta.scope = Scope::Project;
        let error = client.create_registry(&invalid).await.unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::BadRequest);
        assert_eq!(error.method, "POST");
        assert_eq!(error.path, "/api/v1/asset/registries");
        assert!(
            error.message.as_deref().unwrap_or("").contains("projectId"),
            "{error}"
        );
        assert_eq!(error.attempts, 1, "a 400 is not retried");
        assert!(!error.to_string().contains("registry-password-for-tests"));

        // 409 names the existing registry's id.
        let first = client
            .create_registry(&creation_request("dup"))
            .await
            .unwrap();
        let error = client
            .create_registry(&creation_request("dup"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::Conflict);
        assert_eq!(error.existing_id.as_deref(), Some(first.meta.id.as_str()));

        // 404.
        let error = client
            .get_registry("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f")
            .await
            .unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::NotFound);
        assert!(error
            .to_string()
            .contains("GET /api/v1/asset/registries/0b8c8f0e"));
    });

    // 401 with a wrong secret: the message names the client id, never the secret.
    let mut config = client_config(&emulator);
    config.credentials = Credentials::Application {
        client_id: "runai-emulator".into(),
        client_secret: SecretString::from("definitely-wrong-secret".to_string()),
    };
    config.credentials_description = "client_id \"runai-emulator\" (from a test)".into();
    let wrong = ApiClient::new(config).unwrap();
    let error = runtime().block_on(wrong.list_registries(None)).unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unauthorized);
    let text = error.to_string();
    assert!(text.contains("client_id \"runai-emulator\""), "{text}");
    assert!(!text.contains("definitely-wrong-secret"), "{text}");

    // A static token the API does not know: 401 at once, there is nothing to renew.
    let mut config = client_config(&emulator);
    config.credentials = Credentials::StaticToken(SecretString::from("not-a-token".to_string()));
    let static_client = ApiClient::new(config).unwrap();
    let error = runtime()
        .block_on(static_client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unauthorized);
    assert!(!error.to_string().contains("not-a-token"));
}

#[test]
fn transport_and_unavailable_errors_are_classified() {
    // Bound but never listening: connections are refused, and no other test can take the port
    // while the socket lives.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    let mut config = ClientConfig::new(
        format!("http://127.0.0.1:{port}"),
        Credentials::StaticToken(SecretString::from("t".to_string())),
    );
    config.retry = RetryPolicy::none();
    let client = ApiClient::new(config).unwrap();
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Transport);
    assert!(error.to_string().contains("could not connect"), "{error}");

    let emulator = emulator_with(EmulatorConfig {
        faults: Faults {
            unavailable_ratio: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let mut config = client_config(&emulator);
    config.retry.max_retries = 2;
    let client = ApiClient::new(config).unwrap();
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unavailable);
    assert_eq!(error.attempts, 3, "one attempt and two retries");
    assert_eq!(client.retries(), 2);
}

#[test]
fn a_token_is_cached_and_a_revoked_token_is_renewed_once() {
    let emulator = emulator();
    let client = client(&emulator);
    runtime().block_on(async {
        client.list_registries(None).await.expect("first call");
        assert_eq!(emulator.emulator.stats()["tokens_issued"], 1);
        client.list_registries(None).await.expect("cached token");
        assert_eq!(
            emulator.emulator.stats()["tokens_issued"],
            1,
            "the token is cached"
        );

        emulator.emulator.revoke_tokens();
        client
            .list_registries(None)
            .await
            .expect("renewed after the 401");
        assert_eq!(emulator.emulator.stats()["tokens_issued"], 2);
    });
}

#[test]
fn a_short_lived_token_is_renewed_before_it_expires() {
    let emulator = emulator_with(EmulatorConfig {
        // Inside the one-minute renewal margin: every call must find the token stale.
        token_ttl: Duration::from_secs(30),
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    runtime().block_on(async {
        client.list_registries(None).await.unwrap();
        client.list_registries(None).await.unwrap();
    });
    assert_eq!(emulator.emulator.stats()["tokens_issued"], 2);
}

#[test]
fn rate_limits_are_retried_after_the_servers_delay() {
    let emulator = emulator_with(EmulatorConfig {
        faults: Faults {
            rate_limit_ratio: 1.0,
            retry_after_secs: 1,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let mut config = client_config(&emulator);
    config.retry.max_retries = 1;
    let client = ApiClient::new(config).unwrap();
    let started = std::time::Instant::now();
    let error = runtime()
        .block_on(client.list_registries(None))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Unavailable);
    assert_eq!(error.status, Some(429));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry waited for Retry-After"
    );
}

#[test]
fn a_create_whose_answer_is_lost_is_adopted_not_duplicated() {
    let emulator = emulator_with(EmulatorConfig {
        faults: Faults {
            fail_after_commit_ratio: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let client = client(&emulator);
    let registry = runtime()
        .block_on(client.create_registry(&creation_request("lost-answer")))
        .expect("the registry created behind the 503 is adopted");
    let stored = emulator.emulator.registries();
    assert_eq!(stored.len(), 1, "exactly one registry on the server");
    assert_eq!(stored[0]["meta"]["id"], registry.meta.id.as_str());
    assert_eq!(
        emulator.emulator.stats()["operations"]["create_registry"],
        1
    );
}

#[test]
fn a_create_of_a_taken_name_is_a_conflict_naming_the_existing_id() {
    let emulator = emulator();
    let client = client(&emulator);
    let existing = runtime()
        .block_on(client.create_registry(&creation_request("taken")))
        .unwrap();
    let error = runtime()
        .block_on(client.create_registry(&creation_request("taken")))
        .unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Conflict);
    assert_eq!(
        error.existing_id.as_deref(),
        Some(existing.meta.id.as_str())
    );
    assert_eq!(emulator.emulator.registries().len(), 1);
}

#[test]
fn repositories_and_tags_of_an_unreachable_registry_are_a_clear_error() {
    let emulator = emulator();
    let client = client(&emulator);
    let mut request = creation_request("unreachable");
    request.spec.url = "http://127.0.0.1:9".into();
    runtime().block_on(async {
        let registry = client.create_registry(&request).await.unwrap();
        let error = client
            .get_repositories(&registry.meta.id, None)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::BadRequest);
        assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
        assert!(!error.to_string().contains("registry-password-for-tests"));
        let error = client
            .get_repository_tags(&registry.meta.id, "team/app", None)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::BadRequest);
    });
}
