//! The registry store: the registries in memory, the naming rules, and the optional JSON state file.
//!
//! Every change is computed on a copy, written to the state file (temp file + rename, so a crash never
//! leaves half a file), and only then made visible; a failed write therefore changes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::{now_timestamp, AssetMeta, Registry, RegistrySpec, Scope};
use crate::validate::{NewRegistry, RegistryUpdate};

/// The content of the state file.
#[derive(Default, Serialize, Deserialize)]
struct StateFile {
    registries: Vec<Registry>,
}

/// All registries, in creation order, plus where to persist them.
pub struct Store {
    registries: Vec<Registry>,
    state_file: Option<PathBuf>,
}

impl Store {
    /// A store backed by `state_file`, loaded from it when it exists; a missing file means "start empty".
    pub fn open(state_file: Option<PathBuf>) -> anyhow::Result<Store> {
        let registries = match &state_file {
            Some(path) if path.exists() => {
                let text = std::fs::read(path)
                    .with_context(|| format!("reading the state file {}", path.display()))?;
                let state: StateFile = serde_json::from_slice(&text)
                    .with_context(|| format!("parsing the state file {}", path.display()))?;
                state.registries
            }
            _ => Vec::new(),
        };
        Ok(Store {
            registries,
            state_file,
        })
    }

    /// Every registry, in creation order.
    pub fn all(&self) -> &[Registry] {
        &self.registries
    }

    /// The registry with `id` (already in canonical lowercase form).
    pub fn get(&self, id: &str) -> Option<&Registry> {
        self.registries
            .iter()
            .find(|registry| registry.meta.id == id)
    }

    /// Creates a registry owned by `subject`; 409 when the name is taken in the same scope.
    pub fn create(
        &mut self,
        new: NewRegistry,
        subject: &str,
        tenant_id: i32,
    ) -> Result<Registry, ApiError> {
        let now = now_timestamp();
        let project_name = match new.scope {
            Scope::Project => new
                .project_id
                .map(|project_id| format!("project-{project_id}")),
            _ => None,
        };
        let registry = Registry {
            meta: AssetMeta {
                name: new.name,
                description: new.description,
                scope: new.scope,
                cluster_id: new.cluster_id,
                department_id: new.department_id,
                project_id: new.project_id,
                auto_delete: new.auto_delete,
                workload_supported_types: new.workload_supported_types,
                id: Uuid::new_v4().to_string(),
                kind: "registry".to_string(),
                tenant_id,
                created_by: subject.to_string(),
                created_at: now.clone(),
                updated_by: subject.to_string(),
                updated_at: now,
                project_name,
            },
            spec: RegistrySpec {
                url: new.url,
                credential_kind: new.credential_kind,
                user: new.user,
                password: new.password,
            },
        };
        self.check_name_is_free(&registry, None)?;
        let mut registries = self.registries.clone();
        registries.push(registry.clone());
        self.commit(registries)?;
        Ok(registry)
    }

    /// Replaces the updatable fields of the registry `id`; 404 if unknown, 409 if the new name is taken.
    pub fn update(
        &mut self,
        id: &str,
        update: RegistryUpdate,
        subject: &str,
    ) -> Result<Registry, ApiError> {
        let mut registries = self.registries.clone();
        let registry = registries
            .iter_mut()
            .find(|registry| registry.meta.id == id)
            .ok_or_else(|| not_found(id))?;
        registry.meta.name = update.name;
        registry.meta.description = update.description;
        registry.meta.updated_by = subject.to_string();
        registry.meta.updated_at = now_timestamp();
        registry.spec.url = update.url;
        registry.spec.credential_kind = update.credential_kind;
        registry.spec.user = update.user;
        if let Some(password) = update.password {
            registry.spec.password = password;
        }
        let updated = registry.clone();
        self.check_name_is_free(&updated, Some(id))?;
        self.commit(registries)?;
        Ok(updated)
    }

    /// Deletes the registry `id`; 404 if unknown.
    pub fn delete(&mut self, id: &str) -> Result<(), ApiError> {
        let mut registries = self.registries.clone();
        let before = registries.len();
        registries.retain(|registry| registry.meta.id != id);
        if registries.len() == before {
            return Err(not_found(id));
        }
        self.commit(registries)
    }

    /// Changes a stored password as if someone did it outside Terraform; false if `id` is unknown.
    pub fn set_password_out_of_band(&mut self, id: &str, password: &str) -> anyhow::Result<bool> {
        let mut registries = self.registries.clone();
        let Some(registry) = registries
            .iter_mut()
            .find(|registry| registry.meta.id == id)
        else {
            return Ok(false);
        };
        registry.spec.password = password.to_string();
        registry.meta.updated_by = "out-of-band".to_string();
        registry.meta.updated_at = now_timestamp();
        self.commit(registries)
            .map_err(|error| anyhow::anyhow!(error.message))?;
        Ok(true)
    }

    /// Rejects `candidate` when another registry (other than `own_id`) has its name in the same scope.
    fn check_name_is_free(
        &self,
        candidate: &Registry,
        own_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let key = candidate.scope_key();
        let taken = self.registries.iter().any(|other| {
            Some(other.meta.id.as_str()) != own_id
                && other.meta.name == candidate.meta.name
                && other.scope_key() == key
        });
        if taken {
            return Err(ApiError::conflict(format!(
                "a registry named {:?} already exists in this {} scope",
                candidate.meta.name,
                candidate.meta.scope.as_str()
            )));
        }
        Ok(())
    }

    /// Persists `registries` and then makes them the current state.
    fn commit(&mut self, registries: Vec<Registry>) -> Result<(), ApiError> {
        if let Some(path) = &self.state_file {
            write_state_file(path, &registries).map_err(|error| {
                tracing::error!("could not write the state file: {error:#}");
                ApiError::internal(format!("could not write the state file {}", path.display()))
            })?;
        }
        self.registries = registries;
        Ok(())
    }
}

/// The 404 for an unknown registry id.
pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("registry {id} was not found"))
}

/// Writes the state atomically: a temp file in the same directory, flushed, then renamed over the old one.
fn write_state_file(path: &Path, registries: &[Registry]) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let state = StateFile {
        registries: registries.to_vec(),
    };
    let mut file = tempfile::NamedTempFile::new_in(directory)
        .with_context(|| format!("creating a temp file in {}", directory.display()))?;
    serde_json::to_writer_pretty(&mut file, &state).context("serializing the state")?;
    file.write_all(b"\n").context("writing the state")?;
    file.as_file().sync_all().context("flushing the state")?;
    file.persist(path)
        .with_context(|| format!("renaming the temp file to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CredentialKind;

    fn new_registry(name: &str, scope: Scope, project_id: Option<i32>) -> NewRegistry {
        NewRegistry {
            name: name.to_string(),
            description: None,
            scope,
            cluster_id: None,
            department_id: None,
            project_id,
            auto_delete: false,
            workload_supported_types: None,
            url: "https://registry.example".to_string(),
            credential_kind: CredentialKind::Password,
            user: "user".to_string(),
            password: "secret".to_string(),
        }
    }

    #[test]
    fn names_are_unique_per_scope_only() {
        let mut store = Store::open(None).expect("in-memory store");
        store
            .create(new_registry("hub", Scope::Project, Some(1)), "me", 1001)
            .expect("first");
        store
            .create(new_registry("hub", Scope::Project, Some(2)), "me", 1001)
            .expect("other project");
        store
            .create(new_registry("hub", Scope::Tenant, None), "me", 1001)
            .expect("other scope");
        let duplicate = store.create(new_registry("hub", Scope::Project, Some(1)), "me", 1001);
        assert_eq!(duplicate.unwrap_err().status.as_u16(), 409);
        assert_eq!(store.all().len(), 3);
    }

    #[test]
    fn state_file_round_trips_and_is_replaced_atomically() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("state.json");
        let mut store = Store::open(Some(path.clone())).expect("empty store");
        let created = store
            .create(new_registry("hub", Scope::Tenant, None), "me", 1001)
            .expect("create");
        assert!(path.exists());

        let reopened = Store::open(Some(path.clone())).expect("reload");
        assert_eq!(reopened.all(), std::slice::from_ref(&created));
        store.delete(&created.meta.id).expect("delete");
        assert!(Store::open(Some(path)).expect("reload").all().is_empty());
        // Only the state file itself is left behind: no temp files.
        assert_eq!(
            std::fs::read_dir(directory.path()).expect("list").count(),
            1
        );
    }

    #[test]
    fn a_corrupt_state_file_is_an_error() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("state.json");
        std::fs::write(&path, "not json").expect("write");
        let error = Store::open(Some(path)).err().expect("must fail");
        assert!(format!("{error:#}").contains("parsing the state file"));
    }
}
