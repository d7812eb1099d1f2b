//! The stored registry asset, in the exact JSON shape of the contract's `Registry` schema.

use serde::{Deserialize, Serialize};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::config::{PasswordMode, MASKED_PASSWORD};

/// The scope in which an asset can be used (contract schema `Scope`).
///
/// The variants are declared from the broadest to the narrowest, and the derived `Ord` relies on that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    System,
    Tenant,
    Cluster,
    Department,
    Project,
}

impl Scope {
    /// The contract's name of the scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Tenant => "tenant",
            Scope::Cluster => "cluster",
            Scope::Department => "department",
            Scope::Project => "project",
        }
    }
}

/// The kind of credential of a registry (contract schema `CredentialKind`); only passwords exist in 2.19.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    Password,
}

/// The distributed training framework (contract schema `WorkloadSupportedTypes.distFramework`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DistFramework {
    #[serde(rename = "MPI")]
    Mpi,
    #[serde(rename = "PyTorch")]
    PyTorch,
    #[serde(rename = "TF")]
    Tf,
    #[serde(rename = "XGBoost")]
    XgBoost,
}

/// The workload types an asset may be used by (contract schema `WorkloadSupportedTypes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSupportedTypes {
    pub inference: Option<bool>,
    pub workspace: Option<bool>,
    pub training: Option<bool>,
    pub distributed: Option<bool>,
    pub dist_framework: Option<DistFramework>,
}

/// The `meta` part of a registry (contract schema `AssetMeta`); every key is always present, null or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetMeta {
    pub name: String,
    pub description: Option<String>,
    pub scope: Scope,
    pub cluster_id: Option<String>,
    pub department_id: Option<String>,
    pub project_id: Option<i32>,
    pub auto_delete: bool,
    pub workload_supported_types: Option<WorkloadSupportedTypes>,
    pub id: String,
    pub kind: String,
    pub tenant_id: i32,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
    pub project_name: Option<String>,
}

/// The `spec` part of a registry (contract schema `RegistrySpec`), holding the real password.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySpec {
    pub url: String,
    pub credential_kind: CredentialKind,
    pub user: String,
    pub password: String,
}

/// A registry asset as stored by the emulator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    pub meta: AssetMeta,
    pub spec: RegistrySpec,
}

/// What makes two names collide: registries with the same name may coexist only in different scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeKey {
    scope: Scope,
    cluster_id: Option<String>,
    department_id: Option<String>,
    project_id: Option<i32>,
}

impl Registry {
    /// The scope and scope ids of this registry, for the name-uniqueness rule.
    pub fn scope_key(&self) -> ScopeKey {
        ScopeKey {
            scope: self.meta.scope,
            // UUIDs compare case-insensitively, so `ABC..` and `abc..` are the same cluster.
            cluster_id: self
                .meta
                .cluster_id
                .as_ref()
                .map(|id| id.to_ascii_lowercase()),
            department_id: self.meta.department_id.clone(),
            project_id: self.meta.project_id,
        }
    }

    /// The JSON of this registry with the real password, as stored in the state file.
    pub fn to_stored_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a registry always serializes to JSON")
    }

    /// The JSON of this registry as an API response shows it under `mode`.
    pub fn to_api_json(&self, mode: PasswordMode) -> serde_json::Value {
        let mut json = self.to_stored_json();
        let spec = json["spec"].as_object_mut().expect("spec is an object");
        match mode {
            PasswordMode::AsSent => {}
            PasswordMode::Masked => {
                spec.insert("password".to_string(), MASKED_PASSWORD.into());
            }
            PasswordMode::Omitted => {
                spec.remove("password");
            }
        }
        json
    }
}

/// The timestamp format of `createdAt`/`updatedAt`: RFC 3339, UTC, millisecond precision.
const TIMESTAMP_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The current time as an API timestamp, e.g. `2024-05-01T12:34:56.789Z`.
pub fn now_timestamp() -> String {
    OffsetDateTime::now_utc()
        .format(TIMESTAMP_FORMAT)
        .expect("a UTC time always formats")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Registry {
        Registry {
            meta: AssetMeta {
                name: "docker-hub".to_string(),
                description: None,
                scope: Scope::Project,
                cluster_id: None,
                department_id: None,
                project_id: Some(7),
                auto_delete: false,
                workload_supported_types: None,
                id: "5d9e0f7c-4a3b-4c1d-9e8f-7a6b5c4d3e2f".to_string(),
                kind: "registry".to_string(),
                tenant_id: 1001,
                created_by: "runai-emulator".to_string(),
                created_at: now_timestamp(),
                updated_by: "runai-emulator".to_string(),
                updated_at: now_timestamp(),
                project_name: Some("project-7".to_string()),
            },
            spec: RegistrySpec {
                url: "https://registry.example.com".to_string(),
                credential_kind: CredentialKind::Password,
                user: "robot".to_string(),
                password: "hunter2".to_string(),
            },
        }
    }

    #[test]
    fn api_json_follows_the_password_mode() {
        let registry = sample();
        assert_eq!(
            registry.to_api_json(PasswordMode::AsSent)["spec"]["password"],
            "hunter2"
        );
        assert_eq!(
            registry.to_api_json(PasswordMode::Masked)["spec"]["password"],
            "********"
        );
        let omitted = registry.to_api_json(PasswordMode::Omitted);
        assert!(omitted["spec"].get("password").is_none());
        assert_eq!(omitted["spec"]["user"], "robot");
    }

    #[test]
    fn api_json_uses_contract_names_and_keeps_nulls() {
        let json = sample().to_api_json(PasswordMode::AsSent);
        assert_eq!(json["meta"]["projectId"], 7);
        assert_eq!(json["meta"]["projectName"], "project-7");
        assert_eq!(json["meta"]["scope"], "project");
        assert_eq!(json["spec"]["credentialKind"], "password");
        assert!(json["meta"]
            .get("clusterId")
            .expect("clusterId key present")
            .is_null());
        assert!(json["meta"]
            .get("description")
            .expect("description key present")
            .is_null());
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        let stamp = now_timestamp();
        assert_eq!(stamp.len(), "2024-05-01T12:34:56.789Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'));
        assert_eq!(&stamp[19..20], ".");
        OffsetDateTime::parse(&stamp, &time::format_description::well_known::Rfc3339)
            .expect("the timestamp parses as RFC 3339");
    }
}
