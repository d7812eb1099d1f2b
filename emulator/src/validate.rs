//! Request parsing and validation: turns request bodies into checked values or a 400 naming the field.
//!
//! JSON types are checked by serde (with `serde_path_to_error` for the field path); the contract's other
//! rules (required fields, lengths, UUIDs, scope consistency) are checked here by hand, and every problem
//! found is reported at once so that a user fixes them in one go.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::{CredentialKind, Scope, WorkloadSupportedTypes};

/// The longest description the contract allows, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 250;

/// Field paths whose values are secrets: type errors there must not quote the value.
const SECRET_PATHS: [&str; 3] = ["spec.password", "appSecret", "clientSecret"];

/// A validated creation request.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRegistry {
    pub name: String,
    pub description: Option<String>,
    pub scope: Scope,
    pub cluster_id: Option<String>,
    pub department_id: Option<String>,
    pub project_id: Option<i32>,
    pub auto_delete: bool,
    pub workload_supported_types: Option<WorkloadSupportedTypes>,
    pub url: String,
    pub credential_kind: CredentialKind,
    pub user: String,
    pub password: String,
}

/// A validated update request; `password` is `None` when the stored password must be kept.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryUpdate {
    pub name: String,
    pub description: Option<String>,
    pub url: String,
    pub credential_kind: CredentialKind,
    pub user: String,
    pub password: Option<String>,
}

#[derive(Deserialize)]
struct CreationRequestBody {
    meta: Option<CreationMetaBody>,
    spec: Option<SpecBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationMetaBody {
    name: Option<String>,
    description: Option<String>,
    scope: Option<Scope>,
    cluster_id: Option<String>,
    department_id: Option<String>,
    project_id: Option<i32>,
    auto_delete: Option<bool>,
    workload_supported_types: Option<WorkloadSupportedTypes>,
}

#[derive(Deserialize)]
struct UpdateRequestBody {
    meta: Option<UpdateMetaBody>,
    spec: Option<SpecBody>,
}

#[derive(Deserialize)]
struct UpdateMetaBody {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecBody {
    url: Option<String>,
    credential_kind: Option<CredentialKind>,
    user: Option<String>,
    password: Option<String>,
}

/// Collects every problem of one request before answering.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, path: &str, problem: impl AsRef<str>) {
        self.0.push(format!("{path}: {}", problem.as_ref()));
    }

    /// Notes a problem when a required field is missing (absent or null).
    fn required<T>(&mut self, path: &str, value: &Option<T>) {
        if value.is_none() {
            self.add(path, "is required");
        }
    }

    /// Checks a required string that must not be empty (the contract's `minLength: 1`).
    fn required_text(&mut self, path: &str, value: &Option<String>) {
        match value {
            None => self.add(path, "is required"),
            Some(text) => self.non_empty(path, text),
        }
    }

    fn non_empty(&mut self, path: &str, value: &str) {
        if value.is_empty() {
            self.add(path, "must not be empty");
        }
    }

    fn description(&mut self, value: &Option<String>) {
        if let Some(description) = value {
            self.non_empty("meta.description", description);
            if description.chars().count() > DESCRIPTION_MAX_CHARS {
                self.add(
                    "meta.description",
                    format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
                );
            }
        }
    }

    fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::bad_request(self.0.join("; ")))
        }
    }
}

/// The message of the `expect` calls below, which only run after validation found no problem.
const VALIDATED: &str = "a field that validation found present";

/// Parses and validates the body of `POST /api/v1/asset/registries`.
pub fn parse_creation(body: &[u8]) -> Result<NewRegistry, ApiError> {
    let request: CreationRequestBody = parse_json(body)?;
    let mut problems = Problems::default();
    problems.required("meta", &request.meta);
    problems.required("spec", &request.spec);
    if let Some(meta) = &request.meta {
        problems.required_text("meta.name", &meta.name);
        problems.description(&meta.description);
        problems.required("meta.scope", &meta.scope);
        if let Some(cluster_id) = &meta.cluster_id {
            if !is_hyphenated_uuid(cluster_id) {
                problems.add("meta.clusterId", "must be a UUID");
            }
        }
        if let Some(department_id) = &meta.department_id {
            problems.non_empty("meta.departmentId", department_id);
        }
        if let Some(scope) = meta.scope {
            check_scope_ids(&mut problems, scope, meta);
        }
    }
    if let Some(spec) = &request.spec {
        problems.required_text("spec.url", &spec.url);
        problems.required("spec.credentialKind", &spec.credential_kind);
        problems.required_text("spec.user", &spec.user);
        problems.required_text("spec.password", &spec.password);
    }
    problems.into_result()?;

    let meta = request.meta.expect(VALIDATED);
    let spec = request.spec.expect(VALIDATED);
    Ok(NewRegistry {
        name: meta.name.expect(VALIDATED),
        description: meta.description,
        scope: meta.scope.expect(VALIDATED),
        cluster_id: meta.cluster_id,
        department_id: meta.department_id,
        project_id: meta.project_id,
        auto_delete: meta.auto_delete.unwrap_or(false),
        workload_supported_types: meta.workload_supported_types,
        url: spec.url.expect(VALIDATED),
        credential_kind: spec.credential_kind.expect(VALIDATED),
        user: spec.user.expect(VALIDATED),
        password: spec.password.expect(VALIDATED),
    })
}

/// Parses and validates the body of `PUT /api/v1/asset/registries/{AssetId}`.
pub fn parse_update(body: &[u8]) -> Result<RegistryUpdate, ApiError> {
    let request: UpdateRequestBody = parse_json(body)?;
    let mut problems = Problems::default();
    problems.required("meta", &request.meta);
    problems.required("spec", &request.spec);
    if let Some(meta) = &request.meta {
        problems.required_text("meta.name", &meta.name);
        problems.description(&meta.description);
    }
    if let Some(spec) = &request.spec {
        problems.required_text("spec.url", &spec.url);
        problems.required("spec.credentialKind", &spec.credential_kind);
        problems.required_text("spec.user", &spec.user);
    }
    problems.into_result()?;

    let meta = request.meta.expect(VALIDATED);
    let spec = request.spec.expect(VALIDATED);
    Ok(RegistryUpdate {
        name: meta.name.expect(VALIDATED),
        description: meta.description,
        url: spec.url.expect(VALIDATED),
        credential_kind: spec.credential_kind.expect(VALIDATED),
        user: spec.user.expect(VALIDATED),
        // An absent or empty password on update means "keep the stored one", as Run:ai does.
        password: spec.password.filter(|password| !password.is_empty()),
    })
}

/// Checks that the scope ids match the scope: the ids the scope needs are present, narrower ones are absent.
fn check_scope_ids(problems: &mut Problems, scope: Scope, meta: &CreationMetaBody) {
    let scope_name = scope.as_str();
    // Each id with the scope that requires it, which is also the broadest scope in which it may be set.
    let ids = [
        ("meta.clusterId", meta.cluster_id.is_some(), Scope::Cluster),
        (
            "meta.departmentId",
            meta.department_id.is_some(),
            Scope::Department,
        ),
        ("meta.projectId", meta.project_id.is_some(), Scope::Project),
    ];
    for (path, present, own_scope) in ids {
        if scope == own_scope && !present {
            problems.add(path, format!("is required when meta.scope is {scope_name}"));
        }
        if own_scope > scope && present {
            problems.add(
                path,
                format!("must not be set when meta.scope is {scope_name}"),
            );
        }
    }
}

/// Checks the `{AssetId}` path parameter and returns it in lowercase canonical form.
pub fn parse_asset_id(text: &str) -> Result<String, ApiError> {
    if is_hyphenated_uuid(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(ApiError::bad_request(format!(
            "AssetId: must be a UUID, got {text:?}"
        )))
    }
}

/// Whether `text` is a UUID in the usual 8-4-4-4-12 hex form that `format: uuid` means.
fn is_hyphenated_uuid(text: &str) -> bool {
    // `Uuid::parse_str` also accepts the braced, URN and hyphen-less forms; the length check rules them out.
    text.len() == 36 && Uuid::parse_str(text).is_ok()
}

/// Deserializes a JSON body, turning failures into a 400 that names the offending field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("request body is not valid JSON: {inner}"))
        } else if SECRET_PATHS.contains(&path.as_str()) {
            // serde quotes the offending value in its message, which here would be a secret.
            ApiError::bad_request(format!("{path}: must be a string"))
        } else if path == "." {
            ApiError::bad_request(format!("request body: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(format!("request body is not valid JSON: {error}"))
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn creation(body: serde_json::Value) -> Result<NewRegistry, ApiError> {
        parse_creation(body.to_string().as_bytes())
    }

    fn valid_creation() -> serde_json::Value {
        json!({
            "meta": {"name": "hub", "scope": "tenant"},
            "spec": {"url": "https://hub.example", "credentialKind": "password", "user": "u", "password": "p"}
        })
    }

    fn message(result: Result<NewRegistry, ApiError>) -> String {
        result.expect_err("the request must be rejected").message
    }

    #[test]
    fn accepts_a_minimal_tenant_registry_and_ignores_unknown_fields() {
        let mut body = valid_creation();
        body["meta"]["somethingNew"] = json!(true);
        let registry = creation(body).expect("valid");
        assert_eq!(registry.name, "hub");
        assert_eq!(registry.scope, Scope::Tenant);
        assert!(!registry.auto_delete);
    }

    #[test]
    fn reports_every_missing_required_field() {
        let text = message(creation(json!({"meta": {}, "spec": {}})));
        for path in [
            "meta.name",
            "meta.scope",
            "spec.url",
            "spec.credentialKind",
            "spec.user",
            "spec.password",
        ] {
            assert!(
                text.contains(&format!("{path}: is required")),
                "{path} missing in {text}"
            );
        }
    }

    #[test]
    fn rejects_wrong_types_with_the_field_path_but_never_quotes_a_password() {
        let mut body = valid_creation();
        body["meta"]["projectId"] = json!("seven");
        assert!(message(creation(body)).starts_with("meta.projectId: "));

        let mut body = valid_creation();
        body["spec"]["password"] = json!(987654321);
        let text = message(creation(body));
        assert_eq!(text, "spec.password: must be a string");
    }

    #[test]
    fn rejects_project_ids_outside_int32() {
        let mut body = valid_creation();
        body["meta"]["scope"] = json!("project");
        body["meta"]["projectId"] = json!(3_000_000_000_i64);
        assert!(message(creation(body)).starts_with("meta.projectId: "));
    }

    #[test]
    fn enforces_scope_consistency() {
        let mut body = valid_creation();
        body["meta"]["scope"] = json!("cluster");
        assert!(message(creation(body.clone())).contains("meta.clusterId: is required"));

        body["meta"]["clusterId"] = json!("0d1f8e2a-3b4c-4d5e-8f60-718293a4b5c6");
        body["meta"]["projectId"] = json!(4);
        assert!(message(creation(body.clone())).contains("meta.projectId: must not be set"));

        body["meta"]["projectId"] = json!(null);
        assert!(creation(body).is_ok());
    }

    #[test]
    fn rejects_non_uuid_cluster_ids_and_long_descriptions() {
        let mut body = valid_creation();
        body["meta"]["scope"] = json!("cluster");
        body["meta"]["clusterId"] = json!("0d1f8e2a3b4c4d5e8f60718293a4b5c6");
        assert!(message(creation(body)).contains("meta.clusterId: must be a UUID"));

        let mut body = valid_creation();
        body["meta"]["description"] = json!("x".repeat(251));
        assert_eq!(
            message(creation(body)),
            "meta.description: must be at most 250 characters"
        );

        let mut body = valid_creation();
        body["meta"]["description"] = json!("é".repeat(250));
        assert!(
            creation(body).is_ok(),
            "the limit counts characters, not bytes"
        );
    }

    #[test]
    fn rejects_unknown_enum_values() {
        let mut body = valid_creation();
        body["spec"]["credentialKind"] = json!("token");
        assert!(message(creation(body)).starts_with("spec.credentialKind: "));

        let mut body = valid_creation();
        body["meta"]["workloadSupportedTypes"] = json!({"distFramework": "JAX"});
        assert!(message(creation(body)).starts_with("meta.workloadSupportedTypes.distFramework: "));
    }

    #[test]
    fn rejects_bodies_that_are_not_json() {
        let text = parse_creation(b"name=hub").unwrap_err().message;
        assert!(text.starts_with("request body is not valid JSON"), "{text}");
        assert!(parse_creation(b"").is_err());
        assert!(parse_creation(b"{} trailing").is_err());
    }

    #[test]
    fn update_keeps_the_password_when_absent_or_empty() {
        let body = json!({
            "meta": {"name": "hub", "scope": "ignored"},
            "spec": {"url": "u", "credentialKind": "password", "user": "u", "password": ""}
        });
        let update = parse_update(body.to_string().as_bytes()).expect("valid");
        assert_eq!(update.password, None);

        let body = json!({"meta": {"name": "hub"}});
        let text = parse_update(body.to_string().as_bytes())
            .unwrap_err()
            .message;
        assert_eq!(text, "spec: is required");
    }

    #[test]
    fn asset_ids_must_be_uuids() {
        assert_eq!(
            parse_asset_id("5D9E0F7C-4A3B-4C1D-9E8F-7A6B5C4D3E2F").expect("valid"),
            "5d9e0f7c-4a3b-4c1d-9e8f-7a6b5c4d3e2f"
        );
        assert_eq!(parse_asset_id("42").unwrap_err().status.as_u16(), 400);
    }
}
