//! Name uniqueness: 409 when creating or renaming onto a name taken in the same scope.

use reqwest::StatusCode;

use crate::support::{id_of, project_registry, registry_path, tenant_registry, update_body, Api};

#[test]
fn creating_a_taken_name_in_the_same_scope_conflicts() {
    let api = Api::start();
    api.create(tenant_registry("hub"));
    let message = api
        .post(crate::support::REGISTRIES, tenant_registry("hub"))
        .expect_error(StatusCode::CONFLICT);
    assert!(
        message.contains("hub") && message.contains("already exists"),
        "{message}"
    );
    assert_eq!(api.running.emulator.registries().len(), 1);
}

#[test]
fn the_same_name_is_fine_in_another_scope() {
    let api = Api::start();
    api.create(tenant_registry("hub"));
    api.create(project_registry("hub", 1));
    api.create(project_registry("hub", 2));
    api.post(crate::support::REGISTRIES, project_registry("hub", 2))
        .expect_error(StatusCode::CONFLICT);
    assert_eq!(api.running.emulator.registries().len(), 3);
}

#[test]
fn renaming_onto_a_taken_name_conflicts() {
    let api = Api::start();
    api.create(tenant_registry("taken"));
    let other = api.create(tenant_registry("other"));
    let path = registry_path(&id_of(&other));
    let message = api
        .put(&path, update_body("taken"))
        .expect_error(StatusCode::CONFLICT);
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(
        api.get(&path).expect(StatusCode::OK)["meta"]["name"],
        "other",
        "nothing changed"
    );
    // Keeping one's own name is not a conflict.
    api.put(&path, update_body("other")).expect(StatusCode::OK);
}
