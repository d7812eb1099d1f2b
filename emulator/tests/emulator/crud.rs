//! Create, read, list, update and delete of registry assets, and the 404s of unknown ids.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    id_of, project_registry, registry_path, tenant_registry, update_body, Api, REGISTRIES,
};

const UNKNOWN_ID: &str = "8f14e45f-ceea-467f-a0e6-7d5c3b2a1f00";

#[test]
fn create_answers_the_full_registry() {
    let api = Api::start();
    let created = api.create(project_registry("hub", 42));
    let meta = &created["meta"];
    assert_eq!(meta["name"], "hub");
    assert_eq!(meta["description"], "a test registry");
    assert_eq!(meta["scope"], "project");
    assert_eq!(meta["projectId"], 42);
    assert_eq!(meta["projectName"], "project-42");
    assert!(meta["clusterId"].is_null());
    assert!(meta["departmentId"].is_null());
    assert!(meta["workloadSupportedTypes"].is_null());
    assert_eq!(meta["autoDelete"], false);
    assert_eq!(meta["kind"], "registry");
    assert_eq!(meta["tenantId"], 1001);
    assert_eq!(meta["createdBy"], "runai-emulator");
    assert_eq!(meta["updatedBy"], "runai-emulator");
    assert_eq!(meta["createdAt"], meta["updatedAt"]);
    let created_at = meta["createdAt"].as_str().expect("createdAt");
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "{created_at}"
    );
    let id = id_of(&created);
    assert_eq!(
        uuid::Uuid::parse_str(&id)
            .expect("a UUID")
            .get_version_num(),
        4
    );
    assert_eq!(created["spec"]["url"], "https://registry.example.com");
    assert_eq!(created["spec"]["user"], "robot");
    assert_eq!(created["spec"]["credentialKind"], "password");
    assert_eq!(created["spec"]["password"], "s3cret-password");
}

#[test]
fn create_echoes_cluster_department_and_workload_fields() {
    let api = Api::start();
    let mut body = tenant_registry("dept");
    body["meta"]["scope"] = json!("department");
    body["meta"]["clusterId"] = json!("0d1f8e2a-3b4c-4d5e-8f60-718293a4b5c6");
    body["meta"]["departmentId"] = json!("17");
    body["meta"]["workloadSupportedTypes"] =
        json!({"training": true, "distributed": true, "distFramework": "PyTorch"});
    let created = api.create(body);
    let meta = &created["meta"];
    assert_eq!(meta["clusterId"], "0d1f8e2a-3b4c-4d5e-8f60-718293a4b5c6");
    assert_eq!(meta["departmentId"], "17");
    assert!(meta["projectName"].is_null());
    assert_eq!(meta["workloadSupportedTypes"]["distFramework"], "PyTorch");
    assert_eq!(meta["workloadSupportedTypes"]["training"], true);
    assert!(meta["workloadSupportedTypes"]["inference"].is_null());
}

#[test]
fn get_and_list_return_what_was_created() {
    let api = Api::start();
    let first = api.create(tenant_registry("first"));
    let second = api.create(tenant_registry("second"));

    assert_eq!(
        api.get(&registry_path(&id_of(&first)))
            .expect(StatusCode::OK),
        first
    );
    // Ids are matched case-insensitively, as UUIDs are.
    let upper = id_of(&second).to_uppercase();
    assert_eq!(
        api.get(&registry_path(&upper)).expect(StatusCode::OK),
        second
    );

    let all = api.get(REGISTRIES).expect(StatusCode::OK);
    assert_eq!(all["entries"], json!([first, second]));
    let filtered = api
        .get(&format!("{REGISTRIES}?name=second"))
        .expect(StatusCode::OK);
    assert_eq!(filtered["entries"], json!([second]));
    let none = api
        .get(&format!("{REGISTRIES}?name=sec"))
        .expect(StatusCode::OK);
    assert_eq!(none["entries"], json!([]), "the name filter is exact");
}

#[test]
fn update_changes_the_updatable_fields_and_keeps_the_rest() {
    let api = Api::start();
    let created = api.create(project_registry("hub", 3));
    let id = id_of(&created);
    std::thread::sleep(Duration::from_millis(5));

    let mut body = update_body("hub-renamed");
    // Scope and project cannot change through PUT; such fields are ignored.
    body["meta"]["scope"] = json!("tenant");
    body["meta"]["projectId"] = json!(99);
    let updated = api.put(&registry_path(&id), body).expect(StatusCode::OK);
    let meta = &updated["meta"];
    assert_eq!(meta["name"], "hub-renamed");
    assert_eq!(meta["description"], "updated");
    assert_eq!(meta["scope"], "project");
    assert_eq!(meta["projectId"], 3);
    assert_eq!(meta["id"], created["meta"]["id"]);
    assert_eq!(meta["createdAt"], created["meta"]["createdAt"]);
    assert_ne!(meta["updatedAt"], created["meta"]["updatedAt"]);
    assert_eq!(updated["spec"]["url"], "https://other.example.com");
    assert_eq!(updated["spec"]["user"], "robot2");
    assert_eq!(
        updated["spec"]["password"], "s3cret-password",
        "an absent password is kept"
    );
    assert_eq!(api.get(&registry_path(&id)).expect(StatusCode::OK), updated);

    let mut with_empty_password = update_body("hub-renamed");
    with_empty_password["spec"]["password"] = json!("");
    let kept = api
        .put(&registry_path(&id), with_empty_password)
        .expect(StatusCode::OK);
    assert_eq!(
        kept["spec"]["password"], "s3cret-password",
        "an empty password is kept"
    );

    let mut with_password = update_body("hub-renamed");
    with_password["spec"]["password"] = json!("new-password");
    let changed = api
        .put(&registry_path(&id), with_password)
        .expect(StatusCode::OK);
    assert_eq!(changed["spec"]["password"], "new-password");

    let mut without_description = update_body("hub-renamed");
    without_description["meta"]
        .as_object_mut()
        .expect("meta")
        .remove("description");
    let cleared = api
        .put(&registry_path(&id), without_description)
        .expect(StatusCode::OK);
    assert!(
        cleared["meta"]["description"].is_null(),
        "PUT replaces the description"
    );
}

#[test]
fn delete_removes_the_registry() {
    let api = Api::start();
    let created = api.create(tenant_registry("doomed"));
    let path = registry_path(&id_of(&created));
    let answer = api.delete(&path);
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.text.is_empty(), "204 has no body: {}", answer.text);
    api.get(&path).expect_error(StatusCode::NOT_FOUND);
    api.delete(&path).expect_error(StatusCode::NOT_FOUND);
    assert_eq!(
        api.get(REGISTRIES).expect(StatusCode::OK)["entries"],
        json!([])
    );
}

#[test]
fn unknown_ids_are_not_found_on_every_route() {
    let api = Api::start();
    let path = registry_path(UNKNOWN_ID);
    let message = api.get(&path).expect_error(StatusCode::NOT_FOUND);
    assert!(message.contains(UNKNOWN_ID), "{message}");
    api.put(&path, update_body("x"))
        .expect_error(StatusCode::NOT_FOUND);
    api.delete(&path).expect_error(StatusCode::NOT_FOUND);
    api.get(&format!("{path}/repositories"))
        .expect_error(StatusCode::NOT_FOUND);
    api.get(&format!("{path}/repositories/tags?repository=app"))
        .expect_error(StatusCode::NOT_FOUND);
}

#[test]
fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let api = Api::start();
    api.get("/api/v1/asset/nothing")
        .expect_error(StatusCode::NOT_FOUND);
    api.send(api.http.patch(api.url(REGISTRIES)).bearer_auth(&api.token))
        .expect_error(StatusCode::METHOD_NOT_ALLOWED);
}
