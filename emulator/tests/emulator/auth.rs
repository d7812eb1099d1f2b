//! The token exchange and the bearer-token check.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use runai_emulator::EmulatorConfig;
use serde_json::{json, Value};

use crate::support::{tenant_registry, Api, REGISTRIES};

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON payload")
}

#[test]
fn both_grant_types_give_a_jwt_with_sub_and_exp() {
    let api = Api::start_with(EmulatorConfig {
        token_ttl: Duration::from_secs(120),
        ..EmulatorConfig::default()
    });
    let app_token = api
        .post_without_auth(
            "/api/v1/token",
            json!({"grantType": "app_token", "appID": "runai-emulator", "appSecret": "emulator-secret"}),
        )
        .expect(StatusCode::OK);
    let token = app_token["accessToken"].as_str().expect("accessToken");
    let payload = jwt_payload(token);
    assert_eq!(payload["sub"], "runai-emulator");
    let issued_at = payload["iat"].as_u64().expect("iat");
    assert_eq!(payload["exp"].as_u64(), Some(issued_at + 120));

    // The token set up by `Api::start_with` came from the client_credentials grant.
    assert_eq!(jwt_payload(&api.token)["sub"], "runai-emulator");
    assert_ne!(token, api.token, "every exchange issues a fresh token");

    // A token from either grant authenticates, and its subject becomes createdBy.
    let created = api
        .send(
            api.http
                .post(api.url(REGISTRIES))
                .bearer_auth(token)
                .json(&tenant_registry("via-app-token")),
        )
        .expect(StatusCode::CREATED);
    assert_eq!(created["meta"]["createdBy"], "runai-emulator");
}

#[test]
fn wrong_credentials_are_refused_without_echoing_the_secret() {
    let api = Api::start();
    for body in [
        json!({"grantType": "app_token", "appID": "runai-emulator", "appSecret": "wrong-secret-123"}),
        json!({"grantType": "client_credentials", "clientId": "runai-emulator", "clientSecret": "wrong-secret-123"}),
        json!({"grantType": "client_credentials", "clientId": "someone-else", "clientSecret": "emulator-secret"}),
    ] {
        let answer = api.post_without_auth("/api/v1/token", body);
        assert!(!answer.text.contains("wrong-secret-123"), "{}", answer.text);
        assert!(!answer.text.contains("emulator-secret"), "{}", answer.text);
        answer.expect_error(StatusCode::UNAUTHORIZED);
    }
}

#[test]
fn malformed_token_requests_are_bad_requests() {
    let api = Api::start();
    let unknown_grant = api
        .post_without_auth(
            "/api/v1/token",
            json!({"grantType": "password", "username": "x"}),
        )
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(unknown_grant.contains("grantType"), "{unknown_grant}");
    let missing_secret = api
        .post_without_auth(
            "/api/v1/token",
            json!({"grantType": "app_token", "appID": "runai-emulator"}),
        )
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(missing_secret.contains("appSecret"), "{missing_secret}");
    let not_json = api.send(
        api.http
            .post(api.url("/api/v1/token"))
            .body("grantType=app_token"),
    );
    not_json.expect_error(StatusCode::BAD_REQUEST);
}

#[test]
fn asset_routes_need_a_valid_bearer_token() {
    let api = Api::start();
    let no_token = api.send(api.http.get(api.url(REGISTRIES)));
    no_token.expect_error(StatusCode::UNAUTHORIZED);
    let unknown_token = api.send(api.http.get(api.url(REGISTRIES)).bearer_auth("a.b.c"));
    unknown_token.expect_error(StatusCode::UNAUTHORIZED);
    let basic = api.send(
        api.http
            .get(api.url(REGISTRIES))
            .basic_auth("runai-emulator", Some("emulator-secret")),
    );
    basic.expect_error(StatusCode::UNAUTHORIZED);
    // The same routes work with the issued token.
    api.get(REGISTRIES).expect(StatusCode::OK);
}

#[test]
fn tokens_expire_after_their_ttl() {
    let api = Api::start_with(EmulatorConfig {
        // Long enough that the first call lands inside it even on a loaded machine.
        token_ttl: Duration::from_secs(5),
        ..EmulatorConfig::default()
    });
    api.get(REGISTRIES).expect(StatusCode::OK);
    std::thread::sleep(Duration::from_millis(5200));
    api.get(REGISTRIES).expect_error(StatusCode::UNAUTHORIZED);
}

#[test]
fn the_static_token_is_accepted_and_survives_revocation() {
    let api = Api::start_with(EmulatorConfig {
        static_token: Some("static-test-token".to_string()),
        ..EmulatorConfig::default()
    });
    let with_static = || {
        api.send(
            api.http
                .get(api.url(REGISTRIES))
                .bearer_auth("static-test-token"),
        )
    };
    with_static().expect(StatusCode::OK);
    api.running.emulator.revoke_tokens();
    api.get(REGISTRIES).expect_error(StatusCode::UNAUTHORIZED);
    with_static().expect(StatusCode::OK);
}
