//! Fault injection: 503s, 429s with Retry-After, latency, and changes committed but answered 503.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use runai_emulator::{EmulatorConfig, Faults};
use serde_json::json;

use crate::support::{id_of, registry_path, tenant_registry, update_body, Api, REGISTRIES};

#[test]
fn unavailable_ratio_one_answers_every_asset_request_503_but_not_the_token_route() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    api.running.emulator.set_faults(Faults {
        unavailable_ratio: 1.0,
        ..Faults::default()
    });

    api.get(REGISTRIES)
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    api.get(&registry_path(&id_of(&created)))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    // The fault comes first: even an unauthenticated request or a doomed create gets the 503.
    api.send(api.http.get(api.url(REGISTRIES)))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    api.post(REGISTRIES, tenant_registry("never"))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.running.emulator.registries().len(), 1);

    let token = api.post_without_auth(
        "/api/v1/token",
        json!({"grantType": "app_token", "appID": "runai-emulator", "appSecret": "emulator-secret"}),
    );
    token.expect(StatusCode::OK);

    let stats = api.running.emulator.stats();
    assert_eq!(stats["injected"]["unavailable"], 4);
    assert_eq!(stats["injected"]["rate_limited"], 0);
}

#[test]
fn rate_limit_ratio_one_answers_429_with_retry_after() {
    let api = Api::start_with(EmulatorConfig {
        faults: Faults {
            rate_limit_ratio: 1.0,
            retry_after_secs: 7,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let answer = api.get(REGISTRIES);
    let retry_after = answer
        .headers
        .get("retry-after")
        .expect("a Retry-After header")
        .clone();
    answer.expect_error(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.to_str().expect("ASCII"), "7");
    assert_eq!(api.running.emulator.stats()["injected"]["rate_limited"], 1);

    api.running.emulator.set_faults(Faults::default());
    api.get(REGISTRIES).expect(StatusCode::OK);
}

#[test]
fn fail_after_commit_changes_state_yet_answers_503() {
    let api = Api::start();
    let emulator = &api.running.emulator;
    emulator.set_faults(Faults {
        fail_after_commit_ratio: 1.0,
        ..Faults::default()
    });

    api.post(REGISTRIES, tenant_registry("hub"))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    let stored = emulator.registries();
    assert_eq!(stored.len(), 1, "the create was committed");
    let id = id_of(&stored[0]);

    // Reads are not affected by this fault.
    api.get(&registry_path(&id)).expect(StatusCode::OK);

    api.put(&registry_path(&id), update_body("renamed"))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        emulator.registries()[0]["meta"]["name"],
        "renamed",
        "the update was committed"
    );

    // A failing change is answered as it is, not turned into a 503.
    api.post(REGISTRIES, json!({}))
        .expect_error(StatusCode::BAD_REQUEST);

    api.delete(&registry_path(&id))
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(emulator.registries().is_empty(), "the delete was committed");
    assert_eq!(emulator.stats()["injected"]["fail_after_commit"], 3);
}

#[test]
fn latency_is_added_within_the_bounds() {
    let api = Api::start();
    api.running.emulator.set_faults(Faults {
        latency_min_ms: 300,
        latency_max_ms: 400,
        ..Faults::default()
    });
    let started = Instant::now();
    api.get(REGISTRIES).expect(StatusCode::OK);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    // A generous upper bound: a loaded CI machine may add its own delay.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn the_asset_window_spans_asset_calls_with_their_latency_and_leaves_out_the_token_exchange() {
    let api = Api::start();
    api.running.emulator.take_asset_window();
    let token_request = json!({"grantType": "app_token", "appID": "runai-emulator", "appSecret": "emulator-secret"});
    api.post_without_auth("/api/v1/token", token_request.clone())
        .expect(StatusCode::OK);
    assert_eq!(api.running.emulator.take_asset_window(), None);

    api.running.emulator.set_faults(Faults {
        latency_min_ms: 100,
        latency_max_ms: 100,
        ..Faults::default()
    });
    let started = Instant::now();
    api.get(REGISTRIES).expect(StatusCode::OK);
    api.post_without_auth("/api/v1/token", token_request)
        .expect(StatusCode::OK);
    api.get(REGISTRIES).expect(StatusCode::OK);
    let elapsed = started.elapsed();
    let window = api
        .running
        .emulator
        .take_asset_window()
        .expect("two asset calls were made");
    // Two calls one after the other, each held 100 ms by the injected latency.
    assert!(window >= Duration::from_millis(200), "{window:?}");
    assert!(window <= elapsed, "{window:?} > {elapsed:?}");
    assert_eq!(api.running.emulator.take_asset_window(), None);
}

#[test]
#[should_panic(expected = "invalid faults")]
fn invalid_faults_are_refused_by_the_rust_api() {
    let api = Api::start();
    api.running.emulator.set_faults(Faults {
        unavailable_ratio: 2.0,
        ..Faults::default()
    });
}

#[test]
fn invalid_faults_are_refused_at_start() {
    let config = EmulatorConfig {
        faults: Faults {
            latency_min_ms: 10,
            latency_max_ms: 1,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    };
    let error = runai_emulator::Emulator::new(config)
        .err()
        .expect("must fail");
    assert!(error.to_string().contains("latency_min_ms"), "{error}");
}
