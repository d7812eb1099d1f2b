//! Password modes (as-sent, masked, omitted) and changes made outside Terraform.

use reqwest::StatusCode;
use runai_emulator::{EmulatorConfig, PasswordMode};
use serde_json::{json, Value};

use crate::support::{id_of, registry_path, tenant_registry, update_body, Api, REGISTRIES};

/// The password of every registry-shaped answer of the four operations that return one.
fn passwords_seen(api: &Api, name: &str) -> Vec<Option<Value>> {
    let created = api.create(tenant_registry(name));
    let path = registry_path(&id_of(&created));
    let fetched = api.get(&path).expect(StatusCode::OK);
    let listed = api
        .get(&format!("{REGISTRIES}?name={name}"))
        .expect(StatusCode::OK)["entries"][0]
        .clone();
    let updated = api.put(&path, update_body(name)).expect(StatusCode::OK);
    [created, fetched, listed, updated]
        .iter()
        .map(|registry| {
            assert_eq!(
                registry["spec"]["user"].as_str().map(str::is_empty),
                Some(false)
            );
            registry["spec"].get("password").cloned()
        })
        .collect()
}

#[test]
fn as_sent_returns_the_stored_password() {
    let api = Api::start();
    assert_eq!(
        passwords_seen(&api, "a"),
        vec![Some(json!("s3cret-password")); 4]
    );
}

#[test]
fn masked_returns_stars_and_omitted_drops_the_key() {
    let api = Api::start_with(EmulatorConfig {
        password_mode: PasswordMode::Masked,
        ..EmulatorConfig::default()
    });
    assert_eq!(passwords_seen(&api, "m"), vec![Some(json!("********")); 4]);

    api.running
        .emulator
        .set_password_mode(PasswordMode::Omitted);
    assert_eq!(passwords_seen(&api, "o"), vec![None; 4]);

    // Whatever the mode, the stored password is intact.
    for registry in api.running.emulator.registries() {
        assert_eq!(registry["spec"]["password"], "s3cret-password");
    }
}

#[test]
fn the_admin_endpoint_switches_the_mode() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    let path = registry_path(&id_of(&created));
    let answer = api.send(
        api.http
            .put(api.url("/_emulator/password-mode"))
            .json(&json!({"mode": "masked"})),
    );
    assert_eq!(answer.expect(StatusCode::OK), json!({"mode": "masked"}));
    assert_eq!(
        api.get(&path).expect(StatusCode::OK)["spec"]["password"],
        "********"
    );
    let bad = api.send(
        api.http
            .put(api.url("/_emulator/password-mode"))
            .json(&json!({"mode": "hidden"})),
    );
    bad.expect_error(StatusCode::BAD_REQUEST);
    assert_eq!(api.running.emulator.password_mode(), PasswordMode::Masked);
}

#[test]
fn out_of_band_changes_are_visible_through_the_api() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    let id = id_of(&created);
    let emulator = &api.running.emulator;
    std::thread::sleep(std::time::Duration::from_millis(5));

    assert!(emulator.set_password_out_of_band(&id, "changed-elsewhere"));
    let fetched = api.get(&registry_path(&id)).expect(StatusCode::OK);
    assert_eq!(fetched["spec"]["password"], "changed-elsewhere");
    assert_ne!(fetched["meta"]["updatedAt"], created["meta"]["updatedAt"]);
    assert_eq!(fetched["meta"]["updatedBy"], "out-of-band");

    assert!(emulator.delete_out_of_band(&id));
    api.get(&registry_path(&id))
        .expect_error(StatusCode::NOT_FOUND);
    assert!(!emulator.delete_out_of_band(&id));
    assert!(!emulator.set_password_out_of_band(&id, "x"));
}
