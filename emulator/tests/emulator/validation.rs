//! The 400s of request validation: each rule class, with a message naming the field.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{id_of, registry_path, tenant_registry, update_body, Api, REGISTRIES};

/// Sends a creation request and returns the 400's message.
#[track_caller]
fn rejected_creation(api: &Api, body: Value) -> String {
    api.post(REGISTRIES, body)
        .expect_error(StatusCode::BAD_REQUEST)
}

/// `tenant_registry("hub")` changed by `edit`.
fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = tenant_registry("hub");
    edit(&mut body);
    body
}

#[test]
fn required_creation_fields_are_named() {
    let api = Api::start();
    let cases = [
        ("meta", "meta: is required"),
        ("spec", "spec: is required"),
        ("meta.name", "meta.name: is required"),
        ("meta.scope", "meta.scope: is required"),
        ("spec.url", "spec.url: is required"),
        ("spec.credentialKind", "spec.credentialKind: is required"),
        ("spec.user", "spec.user: is required"),
        ("spec.password", "spec.password: is required"),
    ];
    for (field, expected) in cases {
        let body = edited(|body| match field.split_once('.') {
            Some((object, key)) => {
                body[object].as_object_mut().expect("object").remove(key);
            }
            None => {
                body.as_object_mut().expect("object").remove(field);
            }
        });
        let message = rejected_creation(&api, body);
        assert!(message.contains(expected), "{field}: {message}");
    }
    assert!(api.running.emulator.registries().is_empty());
}

#[test]
fn empty_strings_are_rejected() {
    let api = Api::start();
    for (object, key) in [
        ("meta", "name"),
        ("meta", "description"),
        ("spec", "url"),
        ("spec", "user"),
        ("spec", "password"),
    ] {
        let message = rejected_creation(&api, edited(|body| body[object][key] = json!("")));
        assert!(
            message.contains(&format!("{object}.{key}: must not be empty")),
            "{message}"
        );
    }
}

#[test]
fn enums_are_enforced() {
    let api = Api::start();
    let scope = rejected_creation(&api, edited(|body| body["meta"]["scope"] = json!("global")));
    assert!(scope.starts_with("meta.scope: "), "{scope}");
    let kind = rejected_creation(
        &api,
        edited(|body| body["spec"]["credentialKind"] = json!("token")),
    );
    assert!(kind.starts_with("spec.credentialKind: "), "{kind}");
    let framework = rejected_creation(
        &api,
        edited(|body| body["meta"]["workloadSupportedTypes"] = json!({"distFramework": "JAX"})),
    );
    assert!(
        framework.starts_with("meta.workloadSupportedTypes.distFramework: "),
        "{framework}"
    );
}

#[test]
fn descriptions_are_at_most_250_characters() {
    let api = Api::start();
    let message = rejected_creation(
        &api,
        edited(|body| body["meta"]["description"] = json!("d".repeat(251))),
    );
    assert_eq!(message, "meta.description: must be at most 250 characters");
    api.create(edited(|body| {
        body["meta"]["description"] = json!("d".repeat(250))
    }));
}

#[test]
fn types_and_formats_are_checked() {
    let api = Api::start();
    let cluster = rejected_creation(
        &api,
        edited(|body| {
            body["meta"]["scope"] = json!("cluster");
            body["meta"]["clusterId"] = json!("cluster-one");
        }),
    );
    assert!(
        cluster.contains("meta.clusterId: must be a UUID"),
        "{cluster}"
    );
    let too_big = rejected_creation(
        &api,
        edited(|body| {
            body["meta"]["scope"] = json!("project");
            body["meta"]["projectId"] = json!(2_147_483_648_i64);
        }),
    );
    assert!(too_big.starts_with("meta.projectId: "), "{too_big}");
    let string_id = rejected_creation(
        &api,
        edited(|body| {
            body["meta"]["scope"] = json!("project");
            body["meta"]["projectId"] = json!("12");
        }),
    );
    assert!(string_id.starts_with("meta.projectId: "), "{string_id}");
    let numeric_password =
        rejected_creation(&api, edited(|body| body["spec"]["password"] = json!(31337)));
    assert_eq!(numeric_password, "spec.password: must be a string");
}

#[test]
fn scope_ids_must_match_the_scope() {
    let api = Api::start();
    let cluster_id = json!("0d1f8e2a-3b4c-4d5e-8f60-718293a4b5c6");
    let cases = [
        (
            json!({"scope": "cluster"}),
            "meta.clusterId: is required when meta.scope is cluster",
        ),
        (
            json!({"scope": "department"}),
            "meta.departmentId: is required when meta.scope is department",
        ),
        (
            json!({"scope": "project"}),
            "meta.projectId: is required when meta.scope is project",
        ),
        (
            json!({"scope": "tenant", "clusterId": cluster_id}),
            "meta.clusterId: must not be set when meta.scope is tenant",
        ),
        (
            json!({"scope": "system", "departmentId": "4"}),
            "meta.departmentId: must not be set when meta.scope is system",
        ),
        (
            json!({"scope": "cluster", "clusterId": cluster_id, "projectId": 5}),
            "meta.projectId: must not be set when meta.scope is cluster",
        ),
        (
            json!({"scope": "cluster", "clusterId": cluster_id, "departmentId": "4"}),
            "meta.departmentId: must not be set when meta.scope is cluster",
        ),
        (
            json!({"scope": "department", "departmentId": "4", "projectId": 5}),
            "meta.projectId: must not be set when meta.scope is department",
        ),
    ];
    for (meta, expected) in cases {
        let body = edited(|body| {
            for (key, value) in meta.as_object().expect("object") {
                body["meta"][key] = value.clone();
            }
        });
        let message = rejected_creation(&api, body);
        assert!(
            message.contains(expected),
            "expected {expected:?}, got {message:?}"
        );
    }
    // Broader ids may accompany a narrower scope.
    api.create(edited(|body| {
        body["meta"]["scope"] = json!("project");
        body["meta"]["projectId"] = json!(5);
        body["meta"]["clusterId"] = cluster_id.clone();
        body["meta"]["departmentId"] = json!("4");
    }));
}

#[test]
fn bodies_that_are_not_json_are_rejected_and_unknown_fields_tolerated() {
    let api = Api::start();
    let message = api
        .post_raw(REGISTRIES, "meta.name=hub")
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(message.contains("not valid JSON"), "{message}");
    api.post_raw(REGISTRIES, "")
        .expect_error(StatusCode::BAD_REQUEST);
    api.post_raw(REGISTRIES, "[]")
        .expect_error(StatusCode::BAD_REQUEST);
    api.create(edited(|body| {
        body["meta"]["futureField"] = json!({"x": 1});
        body["spec"]["anotherOne"] = json!(true);
        body["topLevelExtra"] = json!("ignored");
    }));
}

#[test]
fn update_requires_name_url_user_and_kind_but_not_password() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    let path = registry_path(&id_of(&created));
    for (object, key) in [
        ("meta", "name"),
        ("spec", "url"),
        ("spec", "user"),
        ("spec", "credentialKind"),
    ] {
        let mut body = update_body("hub");
        body[object].as_object_mut().expect("object").remove(key);
        let message = api.put(&path, body).expect_error(StatusCode::BAD_REQUEST);
        assert!(
            message.contains(&format!("{object}.{key}: is required")),
            "{message}"
        );
    }
    let mut no_spec = update_body("hub");
    no_spec.as_object_mut().expect("object").remove("spec");
    assert_eq!(
        api.put(&path, no_spec)
            .expect_error(StatusCode::BAD_REQUEST),
        "spec: is required"
    );
    let mut long = update_body("hub");
    long["meta"]["description"] = json!("d".repeat(251));
    api.put(&path, long).expect_error(StatusCode::BAD_REQUEST);
    api.put(&path, update_body("hub")).expect(StatusCode::OK);
}

#[test]
fn asset_ids_in_paths_must_be_uuids() {
    let api = Api::start();
    for path in [
        registry_path("not-a-uuid"),
        registry_path("12345"),
        format!("{}/repositories", registry_path("nope")),
        format!("{}/repositories/tags?repository=app", registry_path("nope")),
    ] {
        let message = api.get(&path).expect_error(StatusCode::BAD_REQUEST);
        assert!(message.starts_with("AssetId: must be a UUID"), "{message}");
    }
    api.put(&registry_path("nope"), update_body("x"))
        .expect_error(StatusCode::BAD_REQUEST);
    api.delete(&registry_path("nope"))
        .expect_error(StatusCode::BAD_REQUEST);
}

#[test]
fn tags_need_a_repository() {
    let api = Api::start();
    let created = api.create(tenant_registry("hub"));
    let path = format!("{}/repositories/tags", registry_path(&id_of(&created)));
    let message = api.get(&path).expect_error(StatusCode::BAD_REQUEST);
    assert_eq!(message, "repository: is required");
    let invalid = api
        .get(&format!("{path}?repository=Bad%20Name"))
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(invalid.contains("not a valid repository name"), "{invalid}");
}

#[test]
fn oversized_bodies_are_refused_in_the_error_shape() {
    let api = Api::start();
    let huge = format!(
        "{{\"meta\": {{\"name\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024 + 1024)
    );
    let answer = api.send(
        api.http
            .post(api.url(REGISTRIES))
            .bearer_auth(&api.token)
            .body(huge),
    );
    answer.expect_error(StatusCode::PAYLOAD_TOO_LARGE);
}
