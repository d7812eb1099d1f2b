//! The `/_emulator/` admin API: stats, faults, token revocation (the password mode is in password_modes).

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{id_of, registry_path, tenant_registry, Api, REGISTRIES};

#[test]
fn stats_count_requests_operations_tokens_and_registries() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    api.get(REGISTRIES).expect(StatusCode::OK);
    api.get(REGISTRIES).expect(StatusCode::OK);
    api.get(&registry_path(&id_of(&created)))
        .expect(StatusCode::OK);
    api.send(api.http.get(api.url(REGISTRIES)))
        .expect_error(StatusCode::UNAUTHORIZED);

    // The admin API needs no token.
    let stats = api
        .send(api.http.get(api.url("/_emulator/stats")))
        .expect(StatusCode::OK);
    assert_eq!(stats["total_requests"], 6, "{stats}");
    assert_eq!(stats["operations"]["token"], 1);
    assert_eq!(stats["operations"]["create_registry"], 1);
    assert_eq!(stats["operations"]["list_registries"], 3);
    assert_eq!(stats["operations"]["get_registry_by_id"], 1);
    assert_eq!(stats["operations"]["delete_registry"], 0);
    assert_eq!(stats["tokens_issued"], 1);
    assert_eq!(stats["registry_count"], 1);
    assert_eq!(
        stats["injected"],
        json!({"unavailable": 0, "rate_limited": 0, "fail_after_commit": 0})
    );
}

#[test]
fn faults_can_be_set_over_http() {
    let api = Api::start();
    let faults_url = api.url("/_emulator/faults");
    let answer = api.send(
        api.http
            .put(&faults_url)
            .json(&json!({"unavailable_ratio": 1.0})),
    );
    let faults = answer.expect(StatusCode::OK);
    assert_eq!(faults["unavailable_ratio"], 1.0);
    assert_eq!(
        faults["rate_limit_ratio"], 0.0,
        "unspecified faults default to off"
    );
    api.get(REGISTRIES)
        .expect_error(StatusCode::SERVICE_UNAVAILABLE);

    let invalid = api.send(
        api.http
            .put(&faults_url)
            .json(&json!({"rate_limit_ratio": -0.5})),
    );
    let message = invalid.expect_error(StatusCode::BAD_REQUEST);
    assert!(message.contains("rate_limit_ratio"), "{message}");
    assert_eq!(
        api.running.emulator.faults().unavailable_ratio,
        1.0,
        "an invalid change changes nothing"
    );

    api.send(api.http.put(&faults_url).json(&json!({})))
        .expect(StatusCode::OK);
    api.get(REGISTRIES).expect(StatusCode::OK);
}

#[test]
fn revoking_tokens_forces_a_new_exchange() {
    let mut api = Api::start();
    api.get(REGISTRIES).expect(StatusCode::OK);
    let answer = api.send(api.http.post(api.url("/_emulator/revoke-tokens")));
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    api.get(REGISTRIES).expect_error(StatusCode::UNAUTHORIZED);

    let fresh = api
        .post_without_auth(
            "/api/v1/token",
            json!({"grantType": "client_credentials", "clientId": "runai-emulator", "clientSecret": "emulator-secret"}),
        )
        .expect(StatusCode::OK);
    api.token = fresh["accessToken"].as_str().expect("token").to_string();
    api.get(REGISTRIES).expect(StatusCode::OK);
    assert_eq!(api.running.emulator.stats()["tokens_issued"], 2);
}

#[test]
fn unknown_fault_settings_are_refused() {
    let api = Api::start();
    let answer = api.send(
        api.http
            .put(api.url("/_emulator/faults"))
            .json(&json!({"unavailable_rate": 1.0})),
    );
    let message = answer.expect_error(StatusCode::BAD_REQUEST);
    assert!(message.contains("unavailable_rate"), "{message}");
}
