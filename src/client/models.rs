//! Serde models for every schema of the Run:ai registry-asset contract
//! (`runai-registry-api.openapi.json`, API 2.19).
//!
//! Responses are decoded leniently: unknown fields are ignored and optional fields may be missing or
//! `null`, because control planes newer than 2.19 add fields and a provider must not break on them.
//! Requests are encoded strictly: `None` fields are left out rather than sent as `null`, so the body
//! carries exactly what the user declared.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The scope in which an asset can be used (`Scope` in the contract).
///
/// `Unknown` stands for a scope a newer control plane may answer with: one such registry must not
/// make a whole list undecodable. The provider never sends it; validation only accepts the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    System,
    Tenant,
    Cluster,
    Department,
    Project,
    #[serde(other)]
    Unknown,
}

impl Scope {
    /// Every scope, in the contract's order, for validation messages and documentation.
    pub const ALL: [Scope; 5] = [
        Scope::System,
        Scope::Tenant,
        Scope::Cluster,
        Scope::Department,
        Scope::Project,
    ];

    /// The wire name of the scope, which is also its Terraform spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Tenant => "tenant",
            Scope::Cluster => "cluster",
            Scope::Department => "department",
            Scope::Project => "project",
            Scope::Unknown => "unknown",
        }
    }

    /// Parses the wire name; `None` for anything the contract does not list.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The distributed training framework of `WorkloadSupportedTypes.distFramework`. `Unknown` stands
/// for a framework a newer control plane may answer with; the provider never sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DistFramework {
    #[serde(rename = "MPI")]
    Mpi,
    #[serde(rename = "PyTorch")]
    PyTorch,
    #[serde(rename = "TF")]
    Tf,
    #[serde(rename = "XGBoost")]
    XgBoost,
    #[serde(other, rename = "unknown")]
    Unknown,
}

impl DistFramework {
    /// Every framework the contract lists.
    pub const ALL: [DistFramework; 4] = [
        DistFramework::Mpi,
        DistFramework::PyTorch,
        DistFramework::Tf,
        DistFramework::XgBoost,
    ];

    /// The wire name, which is also the Terraform spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DistFramework::Mpi => "MPI",
            DistFramework::PyTorch => "PyTorch",
            DistFramework::Tf => "TF",
            DistFramework::XgBoost => "XGBoost",
            DistFramework::Unknown => "unknown",
        }
    }

    /// Parses the wire name; `None` for anything the contract does not list.
    pub fn parse(text: &str) -> Option<DistFramework> {
        DistFramework::ALL
            .into_iter()
            .find(|framework| framework.as_str() == text)
    }
}

/// The kind of credential a registry asset holds (`CredentialKind`; the contract lists only `password`).
pub const CREDENTIAL_KIND_PASSWORD: &str = "password";

/// `WorkloadSupportedTypes`: which workload types may use the asset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSupportedTypes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist_framework: Option<DistFramework>,
}

/// `AssetMeta` as the API answers it: updatable, creation and read-only fields together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetMeta {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub scope: Scope,
    #[serde(default)]
    pub cluster_id: Option<String>,
    #[serde(default)]
    pub department_id: Option<String>,
    #[serde(default)]
    pub project_id: Option<i64>,
    #[serde(default)]
    pub auto_delete: Option<bool>,
    #[serde(default)]
    pub workload_supported_types: Option<WorkloadSupportedTypes>,
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub tenant_id: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
    #[serde(default)]
    pub project_name: Option<String>,
}

/// `RegistrySpec` as the API answers it. The password is optional here because whether a control plane
/// returns it as sent, masked or not at all is undocumented; see `RegistrySpecRequest` for requests.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySpec {
    pub url: String,
    pub credential_kind: String,
    pub user: String,
    #[serde(default)]
    pub password: Option<String>,
}

/// The password is left out so that a `{:?}` of a registry can never leak it.
impl fmt::Debug for RegistrySpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RegistrySpec")
            .field("url", &self.url)
            .field("credential_kind", &self.credential_kind)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `Registry`: one registry asset as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub meta: AssetMeta,
    pub spec: RegistrySpec,
}

/// `RegistryListResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryListResponse {
    pub entries: Vec<Registry>,
}

/// `AssetCreationRequest`: the updatable and creation fields of a new asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetCreationRequest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_supported_types: Option<WorkloadSupportedTypes>,
}

/// `RegistrySpec` as sent: every field is required by the contract, the password included.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySpecRequest {
    pub url: String,
    pub credential_kind: String,
    pub user: String,
    pub password: String,
}

/// The password is left out so that a `{:?}` of a request can never leak it.
impl fmt::Debug for RegistrySpecRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RegistrySpecRequest")
            .field("url", &self.url)
            .field("credential_kind", &self.credential_kind)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `RegistryCreationRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCreationRequest {
    pub meta: AssetCreationRequest,
    pub spec: RegistrySpecRequest,
}

/// `AssetUpdateRequest`: only the updatable fields; scope and its ids cannot change in place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetUpdateRequest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `RegistryUpdateRequest`. The contract marks both `meta` and `spec` required, so an update always
/// carries the whole spec, password included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryUpdateRequest {
    pub meta: AssetUpdateRequest,
    pub spec: RegistrySpecRequest,
}

/// `Repositories`: what `get_repositories` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repositories {
    pub repositories: Vec<String>,
}

/// `RepositoryTags`: what `get_repository_tags` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryTags {
    pub name: String,
    pub tags: Vec<String>,
}

/// The contract's `Error` body. Every field is optional when decoding, because a proxy in front of the
/// control plane may answer with something else entirely.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

/// The body of `POST /api/v1/token`, in both grant types the control planes understand.
#[derive(Clone, Serialize)]
#[serde(tag = "grantType")]
pub enum TokenRequest<'a> {
    /// Run:ai 2.19: an application's id and secret.
    #[serde(rename = "app_token")]
    AppToken {
        #[serde(rename = "appID")]
        app_id: &'a str,
        #[serde(rename = "appSecret")]
        app_secret: &'a str,
    },
    /// Newer control planes: OAuth-style client credentials.
    #[serde(rename = "client_credentials")]
    ClientCredentials {
        #[serde(rename = "clientId")]
        client_id: &'a str,
        #[serde(rename = "clientSecret")]
        client_secret: &'a str,
    },
}

/// The answer of `POST /api/v1/token`.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_decodes_with_unknown_and_missing_optional_fields() {
        let body = r#"{
            "meta": {"name": "r", "scope": "tenant", "id": "7d3c1e8e-1111-4a4a-9b9b-000000000001",
                     "kind": "registry", "createdBy": "a", "createdAt": "t", "updatedBy": "a",
                     "updatedAt": "t", "somethingNew": {"x": 1}},
            "spec": {"url": "https://r.example", "credentialKind": "password", "user": "u"},
            "status": "ready"
        }"#;
        let registry: Registry = serde_json::from_str(body).expect("decodes");
        assert_eq!(registry.meta.scope, Scope::Tenant);
        assert_eq!(registry.meta.description, None);
        assert_eq!(registry.spec.password, None);
    }

    #[test]
    fn scopes_and_frameworks_unknown_to_this_version_still_decode() {
        let body = r#"{
            "meta": {"name": "r", "scope": "nodepool", "id": "7d3c1e8e-1111-4a4a-9b9b-000000000001",
                     "kind": "registry", "createdBy": "a", "createdAt": "t", "updatedBy": "a",
                     "updatedAt": "t", "workloadSupportedTypes": {"distFramework": "JAX"}},
            "spec": {"url": "https://r.example", "credentialKind": "password", "user": "u"}
        }"#;
        let registry: Registry = serde_json::from_str(body).expect("decodes");
        assert_eq!(registry.meta.scope, Scope::Unknown);
        assert_eq!(
            registry
                .meta
                .workload_supported_types
                .unwrap()
                .dist_framework,
            Some(DistFramework::Unknown)
        );
        assert_eq!(Scope::parse("unknown"), None, "never accepted from a user");
    }

    #[test]
    fn creation_request_leaves_out_absent_fields_and_uses_wire_names() {
        let request = RegistryCreationRequest {
            meta: AssetCreationRequest {
                name: "r".into(),
                description: None,
                scope: Scope::Project,
                cluster_id: None,
                department_id: None,
                project_id: Some(7),
                workload_supported_types: Some(WorkloadSupportedTypes {
                    dist_framework: Some(DistFramework::PyTorch),
                    ..Default::default()
                }),
            },
            spec: RegistrySpecRequest {
                url: "https://r.example".into(),
                credential_kind: CREDENTIAL_KIND_PASSWORD.into(),
                user: "u".into(),
                password: "p".into(),
            },
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["meta"],
            serde_json::json!({"name": "r", "scope": "project", "projectId": 7,
                               "workloadSupportedTypes": {"distFramework": "PyTorch"}})
        );
        assert_eq!(json["spec"]["credentialKind"], "password");
    }

    #[test]
    fn token_requests_use_each_grant_types_field_names() {
        let app = serde_json::to_value(TokenRequest::AppToken {
            app_id: "id",
            app_secret: "s",
        })
        .unwrap();
        assert_eq!(
            app,
            serde_json::json!({"grantType": "app_token", "appID": "id", "appSecret": "s"})
        );
        let client = serde_json::to_value(TokenRequest::ClientCredentials {
            client_id: "id",
            client_secret: "s",
        })
        .unwrap();
        assert_eq!(
            client,
            serde_json::json!({"grantType": "client_credentials", "clientId": "id", "clientSecret": "s"})
        );
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let spec = RegistrySpecRequest {
            url: "u".into(),
            credential_kind: "password".into(),
            user: "u".into(),
            password: "hunter2-secret".into(),
        };
        assert!(!format!("{spec:?}").contains("hunter2-secret"));
    }
}
