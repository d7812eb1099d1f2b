//! The state file: registries survive a restart, and a broken file is reported.

use reqwest::StatusCode;
use runai_emulator::{Emulator, EmulatorConfig};

use crate::support::{id_of, project_registry, registry_path, tenant_registry, update_body, Api};

fn config_with(state_file: &std::path::Path) -> EmulatorConfig {
    EmulatorConfig {
        state_file: Some(state_file.to_path_buf()),
        ..EmulatorConfig::default()
    }
}

#[test]
fn registries_survive_a_restart() {
    let directory = tempfile::tempdir().expect("temp dir");
    let state_file = directory.path().join("nested-name.json");

    let (kept, changed) = {
        let api = Api::start_with(config_with(&state_file));
        let kept = api.create(tenant_registry("kept"));
        let doomed = api.create(tenant_registry("doomed"));
        let changed = api.create(project_registry("changed", 8));
        let mut update = update_body("changed-name");
        update["spec"]["password"] = serde_json::json!("new-password");
        let changed = api
            .put(&registry_path(&id_of(&changed)), update)
            .expect(StatusCode::OK);
        api.delete(&registry_path(&id_of(&doomed)))
            .expect(StatusCode::NO_CONTENT);
        (kept, changed)
    };
    assert!(state_file.exists());

    let api = Api::start_with(config_with(&state_file));
    assert_eq!(
        api.get(&registry_path(&id_of(&kept)))
            .expect(StatusCode::OK),
        kept
    );
    let reloaded = api
        .get(&registry_path(&id_of(&changed)))
        .expect(StatusCode::OK);
    assert_eq!(reloaded, changed);
    assert_eq!(reloaded["spec"]["password"], "new-password");
    assert_eq!(api.running.emulator.registries().len(), 2);
    // Uniqueness holds against reloaded registries too.
    api.post(crate::support::REGISTRIES, tenant_registry("kept"))
        .expect_error(StatusCode::CONFLICT);
}

#[test]
fn a_missing_state_file_starts_empty_and_a_broken_one_is_an_error() {
    let directory = tempfile::tempdir().expect("temp dir");
    let missing = directory.path().join("missing.json");
    let emulator = Emulator::new(config_with(&missing)).expect("a missing file is fine");
    assert!(emulator.registries().is_empty());
    assert!(
        !missing.exists(),
        "nothing is written before the first change"
    );

    let broken = directory.path().join("broken.json");
    std::fs::write(&broken, "{\"registries\": [").expect("write");
    let error = Emulator::new(config_with(&broken))
        .err()
        .expect("a broken file fails");
    assert!(format!("{error:#}").contains("broken.json"), "{error:#}");
}
