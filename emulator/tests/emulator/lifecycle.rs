//! Starting and stopping a background emulator, from sync and async code, with concurrent clients.

use std::time::Duration;

use runai_emulator::{spawn_in_background, EmulatorConfig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_emulator_serves_concurrent_async_clients_and_stops_on_drop() {
    let running = spawn_in_background(EmulatorConfig::default()).expect("starts");
    let base_url = running.base_url.clone();
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{base_url}/api/v1/token"))
        .json(&json!({"grantType": "app_token", "appID": "runai-emulator", "appSecret": "emulator-secret"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let token = token["accessToken"].as_str().expect("token").to_string();

    let creates = (0..20).map(|index| {
        let request = client
            .post(format!("{base_url}/api/v1/asset/registries"))
            .bearer_auth(&token)
            .json(&json!({
                "meta": {"name": format!("registry-{index}"), "scope": "tenant"},
                "spec": {"url": "r.example", "credentialKind": "password", "user": "u", "password": "p"}
            }));
        async move { request.send().await.expect("answers").status().as_u16() }
    });
    let statuses: Vec<u16> = futures_join_all(creates).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    assert_eq!(running.emulator.registries().len(), 20);

    drop(running);
    let after = tokio::time::timeout(
        Duration::from_secs(5),
        client.get(format!("{base_url}/_emulator/stats")).send(),
    )
    .await
    .expect("no hang");
    assert!(
        after.is_err(),
        "the server is gone after the handle is dropped"
    );
}

/// Runs futures concurrently on the current runtime and collects their outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("the task finished"));
    }
    outputs
}

#[test]
fn dropping_a_sync_handle_frees_the_port() {
    let running = spawn_in_background(EmulatorConfig::default()).expect("starts");
    let address = running.address;
    assert!(std::net::TcpStream::connect(address).is_ok());
    drop(running);
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "nothing listens any more"
    );
}
