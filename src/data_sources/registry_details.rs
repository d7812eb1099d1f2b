//! The non-secret fields of a registry asset, declared once for every data source that shows them.
//!
//! `runai_registries` exposes them as one object per registry and `runai_registry` as top-level
//! attributes. Both take the names, types and descriptions from [`registry_detail_attributes`] and the
//! values from [`RegistryDetails`], so the two data sources cannot drift apart. There is deliberately
//! no password here: a data source's result is printed by `terraform show` and `terraform output`
//! without any sensitive marking, so it must never carry a secret.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::schema::AttributeType;
use tf_provider::value::{Value, ValueBool, ValueNumber};

use crate::client::{Registry, Scope, WorkloadSupportedTypes};

/// The non-secret fields of one registry asset, with the attribute names of [`registry_detail_attributes`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryDetails {
    #[serde(default)]
    pub id: Value<String>,
    #[serde(default)]
    pub name: Value<String>,
    #[serde(default)]
    pub description: Value<String>,
    #[serde(default)]
    pub scope: Value<String>,
    #[serde(default)]
    pub cluster_id: Value<String>,
    #[serde(default)]
    pub department_id: Value<String>,
    #[serde(default)]
    pub project_id: ValueNumber,
    #[serde(default)]
    pub url: Value<String>,
    #[serde(default)]
    pub user: Value<String>,
    #[serde(default)]
    pub credential_kind: Value<String>,
    #[serde(default)]
    pub workload_supported_types: Value<WorkloadSupportedTypesDetails>,
    #[serde(default)]
    pub kind: Value<String>,
    #[serde(default)]
    pub tenant_id: ValueNumber,
    #[serde(default)]
    pub project_name: Value<String>,
    #[serde(default)]
    pub created_by: Value<String>,
    #[serde(default)]
    pub created_at: Value<String>,
    #[serde(default)]
    pub updated_by: Value<String>,
    #[serde(default)]
    pub updated_at: Value<String>,
}

/// The `workload_supported_types` object of a registry: the same fields as the resource's block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSupportedTypesDetails {
    #[serde(default)]
    pub inference: ValueBool,
    #[serde(default)]
    pub workspace: ValueBool,
    #[serde(default)]
    pub training: ValueBool,
    #[serde(default)]
    pub distributed: ValueBool,
    #[serde(default)]
    pub dist_framework: Value<String>,
}

/// One attribute of the field set: its name, its Terraform type and its documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct DetailAttribute {
    pub name: &'static str,
    pub attr_type: AttributeType,
    pub description: &'static str,
}

/// The type of the `workload_supported_types` object. It is a plain object type rather than a nested
/// attribute, because tf-provider's nested attributes crash Terraform 1.0.3.
fn workload_supported_types_type() -> AttributeType {
    AttributeType::Object(HashMap::from([
        ("inference".to_owned(), AttributeType::Bool),
        ("workspace".to_owned(), AttributeType::Bool),
        ("training".to_owned(), AttributeType::Bool),
        ("distributed".to_owned(), AttributeType::Bool),
        ("dist_framework".to_owned(), AttributeType::String),
    ]))
}

/// Every field of [`RegistryDetails`], in the order the documentation lists them.
pub fn registry_detail_attributes() -> Vec<DetailAttribute> {
    let attribute = |name, attr_type, description| DetailAttribute {
        name,
        attr_type,
        description,
    };
    use AttributeType::{Number, String};
    vec![
        attribute("id", String, "The asset's id, a UUID."),
        attribute("name", String, "The asset's name, unique within its scope."),
        attribute("description", String, "The asset's description, if it has one."),
        attribute(
            "scope",
            String,
            "Where the asset can be used: `system`, `tenant`, `cluster`, `department` or `project`.",
        ),
        attribute("cluster_id", String, "The cluster's id, for a cluster, department or project scope."),
        attribute("department_id", String, "The department's id, for a department or project scope."),
        attribute("project_id", Number, "The project's id, for `project` scope."),
        attribute("url", String, "The OCI registry's base URL."),
        attribute("user", String, "The user name for the registry. The password is never exposed."),
        attribute("credential_kind", String, "The kind of credential, `password`."),
        attribute(
            "workload_supported_types",
            workload_supported_types_type(),
            "Which workload types may use the asset: `inference`, `workspace`, `training` and \
             `distributed` (booleans) and `dist_framework`; null when the asset does not say.",
        ),
        attribute("kind", String, "The asset's kind, `registry`."),
        attribute("tenant_id", Number, "The id of the tenant that owns the asset."),
        attribute("project_name", String, "The project's name, for `project` scope."),
        attribute("created_by", String, "Who created the asset."),
        attribute("created_at", String, "When the asset was created (RFC 3339)."),
        attribute("updated_by", String, "Who last updated the asset."),
        attribute("updated_at", String, "When the asset was last updated (RFC 3339)."),
    ]
}

/// The object type of one registry, for a list of registries.
pub fn registry_details_type() -> AttributeType {
    AttributeType::Object(
        registry_detail_attributes()
            .into_iter()
            .map(|attribute| (attribute.name.to_owned(), attribute.attr_type))
            .collect(),
    )
}

impl RegistryDetails {
    /// The fields of a registry as the API answered it; its password is not read at all.
    pub fn from_registry(registry: &Registry) -> RegistryDetails {
        let meta = &registry.meta;
        RegistryDetails {
            id: Value::Value(meta.id.clone()),
            name: Value::Value(meta.name.clone()),
            description: non_empty(meta.description.as_deref()),
            scope: Value::Value(meta.scope.as_str().to_owned()),
            cluster_id: non_empty(meta.cluster_id.as_deref()),
            department_id: non_empty(meta.department_id.as_deref()),
            project_id: meta.project_id.into(),
            url: Value::Value(registry.spec.url.clone()),
            user: Value::Value(registry.spec.user.clone()),
            credential_kind: Value::Value(registry.spec.credential_kind.clone()),
            workload_supported_types: workload_types(meta.workload_supported_types.as_ref()),
            kind: Value::Value(meta.kind.clone()),
            tenant_id: meta.tenant_id.into(),
            project_name: non_empty(meta.project_name.as_deref()),
            created_by: Value::Value(meta.created_by.clone()),
            created_at: Value::Value(meta.created_at.clone()),
            updated_by: Value::Value(meta.updated_by.clone()),
            updated_at: Value::Value(meta.updated_at.clone()),
        }
    }
}

/// An empty string from the API means "not set", as it does for the resource.
/// An optional text of the API as a Terraform value: an empty string is no value, as the API uses
/// both for "not set". Shared with the resource's mapping, so both read the API the same way.
pub fn non_empty(value: Option<&str>) -> Value<String> {
    match value {
        Some(text) if !text.is_empty() => Value::Value(text.to_owned()),
        _ => Value::Null,
    }
}

/// The API's block as an object; an absent or empty block is null, so that configurations can test
/// `workload_supported_types == null` instead of five nulls.
fn workload_types(api: Option<&WorkloadSupportedTypes>) -> Value<WorkloadSupportedTypesDetails> {
    match api {
        Some(types) if *types != WorkloadSupportedTypes::default() => {
            Value::Value(WorkloadSupportedTypesDetails {
                inference: types.inference.into(),
                workspace: types.workspace.into(),
                training: types.training.into(),
                distributed: types.distributed.into(),
                dist_framework: types
                    .dist_framework
                    .map(|framework| framework.as_str().to_owned())
                    .into(),
            })
        }
        _ => Value::Null,
    }
}

/// A one-line description of a registry for error messages: its id, scope and scope ids.
pub fn describe_registry(registry: &Registry) -> String {
    let meta = &registry.meta;
    let mut text = format!("{} (scope {}", meta.id, meta.scope);
    if let Some(cluster_id) = meta.cluster_id.as_deref().filter(|id| !id.is_empty()) {
        text.push_str(&format!(", cluster_id {cluster_id}"));
    }
    if let Some(department_id) = meta.department_id.as_deref().filter(|id| !id.is_empty()) {
        text.push_str(&format!(", department_id {department_id}"));
    }
    if let Some(project_id) = meta.project_id {
        text.push_str(&format!(", project_id {project_id}"));
    }
    text.push(')');
    text
}

/// What narrows a lookup by name down to one registry. `None` means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryFilter {
    pub name: String,
    pub scope: Option<Scope>,
    pub cluster_id: Option<String>,
    pub department_id: Option<String>,
    pub project_id: Option<i64>,
}

/// The result of looking for exactly one registry.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    Found(Box<Registry>),
    NotFound,
    /// Several registries match; at least two.
    Several(Vec<Registry>),
}

impl RegistryFilter {
    /// A filter on the name alone.
    pub fn by_name(name: impl Into<String>) -> RegistryFilter {
        RegistryFilter {
            name: name.into(),
            ..Default::default()
        }
    }

    /// True when `registry` has the filter's exact name and every scope field the filter sets.
    pub fn matches(&self, registry: &Registry) -> bool {
        let meta = &registry.meta;
        meta.name == self.name
            && self.scope.map_or(true, |scope| meta.scope == scope)
            && self
                .cluster_id
                .as_ref()
                .map_or(true, |id| meta.cluster_id.as_ref() == Some(id))
            && self
                .department_id
                .as_ref()
                .map_or(true, |id| meta.department_id.as_ref() == Some(id))
            && self
                .project_id
                .map_or(true, |id| meta.project_id == Some(id))
    }

    /// Picks the one registry of `registries` the filter matches. The API's `name` query is meant
    /// to be exact, but the name is compared here again so that a control plane that matches
    /// loosely (by prefix, or ignoring case) cannot make the provider pick the wrong registry.
    pub fn select(&self, registries: Vec<Registry>) -> Lookup {
        let mut matching: Vec<Registry> = registries
            .into_iter()
            .filter(|registry| self.matches(registry))
            .collect();
        match matching.len() {
            0 => Lookup::NotFound,
            1 => Lookup::Found(Box::new(matching.remove(0))),
            _ => Lookup::Several(matching),
        }
    }

    /// The attribute to add to tell `candidates` apart: the first of scope, cluster_id,
    /// department_id and project_id that the filter leaves open and on which they differ. `None` when
    /// none does, and only the id can choose.
    pub fn distinguishing_attribute(&self, candidates: &[Registry]) -> Option<&'static str> {
        fn differ<T: PartialEq>(candidates: &[Registry], field: impl Fn(&Registry) -> T) -> bool {
            candidates
                .iter()
                .any(|candidate| field(candidate) != field(&candidates[0]))
        }
        if self.scope.is_none() && differ(candidates, |registry| registry.meta.scope) {
            Some("scope")
        } else if self.cluster_id.is_none()
            && differ(candidates, |registry| registry.meta.cluster_id.clone())
        {
            Some("cluster_id")
        } else if self.department_id.is_none()
            && differ(candidates, |registry| registry.meta.department_id.clone())
        {
            Some("department_id")
        } else if self.project_id.is_none()
            && differ(candidates, |registry| registry.meta.project_id)
        {
            Some("project_id")
        } else {
            None
        }
    }

    /// How the filter reads in a message: `named "x" in project scope with project_id 4`.
    pub fn describe(&self) -> String {
        let mut text = format!("named {:?}", self.name);
        if let Some(scope) = self.scope {
            text.push_str(&format!(" in {scope} scope"));
        }
        let mut ids = Vec::new();
        if let Some(id) = &self.cluster_id {
            ids.push(format!("cluster_id {id}"));
        }
        if let Some(id) = &self.department_id {
            ids.push(format!("department_id {id}"));
        }
        if let Some(id) = self.project_id {
            ids.push(format!("project_id {id}"));
        }
        if !ids.is_empty() {
            text.push_str(&format!(" with {}", ids.join(" and ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(id: &str, name: &str, scope: &str, project_id: Option<i64>) -> Registry {
        serde_json::from_value(serde_json::json!({
            "meta": {"name": name, "scope": scope, "id": id, "projectId": project_id,
                     "kind": "registry", "createdBy": "a", "createdAt": "t", "updatedBy": "a",
                     "updatedAt": "t", "tenantId": 1,
                     "workloadSupportedTypes": {"training": true, "distFramework": "MPI"}},
            "spec": {"url": "https://r", "credentialKind": "password", "user": "u",
                     "password": "the-secret-password"}
        }))
        .unwrap()
    }

    #[test]
    fn the_struct_and_the_schema_declare_the_same_fields_and_no_password() {
        let details = RegistryDetails::from_registry(&registry("a", "r", "tenant", None));
        let serialized = serde_json::to_value(&details).unwrap();
        let mut fields: Vec<&str> = serialized
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        let mut attributes: Vec<&str> = registry_detail_attributes()
            .iter()
            .map(|attribute| attribute.name)
            .collect();
        attributes.sort_unstable();
        assert_eq!(fields, attributes);
        assert!(!attributes.contains(&"password"));
        assert!(!serialized.to_string().contains("the-secret-password"));
        let AttributeType::Object(types) = workload_supported_types_type() else {
            panic!("workload_supported_types is an object");
        };
        let mut type_fields: Vec<&String> = types.keys().collect();
        type_fields.sort_unstable();
        let mut block_fields: Vec<String> = serialized["workload_supported_types"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        block_fields.sort_unstable();
        assert_eq!(type_fields, block_fields.iter().collect::<Vec<_>>());
    }

    #[test]
    fn details_map_the_api_fields() {
        let details = RegistryDetails::from_registry(&registry("a", "r", "project", Some(4)));
        assert_eq!(details.scope, Value::Value("project".into()));
        assert_eq!(details.project_id, Value::Value(4));
        assert_eq!(details.tenant_id, Value::Value(1));
        assert_eq!(details.description, Value::Null);
        let types = details.workload_supported_types.unwrap();
        assert_eq!(types.training, Value::Value(true));
        assert_eq!(types.inference, Value::Null);
        assert_eq!(types.dist_framework, Value::Value("MPI".into()));
    }

    #[test]
    fn select_finds_one_none_or_several_and_names_the_attribute_that_tells_them_apart() {
        let registries = vec![
            registry("a", "shared", "tenant", None),
            registry("b", "shared", "project", Some(4)),
            registry("c", "shared", "project", Some(5)),
            registry("d", "shared-2", "tenant", None),
        ];
        let by_name = RegistryFilter::by_name("shared");
        let Lookup::Several(candidates) = by_name.select(registries.clone()) else {
            panic!("three registries are named shared");
        };
        assert_eq!(candidates.len(), 3);
        assert_eq!(by_name.distinguishing_attribute(&candidates), Some("scope"));

        let in_projects = RegistryFilter {
            scope: Some(Scope::Project),
            ..by_name.clone()
        };
        let Lookup::Several(candidates) = in_projects.select(registries.clone()) else {
            panic!("two projects have a registry named shared");
        };
        assert_eq!(
            in_projects.distinguishing_attribute(&candidates),
            Some("project_id")
        );

        let tenant = RegistryFilter {
            scope: Some(Scope::Tenant),
            ..by_name.clone()
        };
        assert!(
            matches!(tenant.select(registries.clone()), Lookup::Found(found) if found.meta.id == "a")
        );
        let project_five = RegistryFilter {
            project_id: Some(5),
            ..by_name
        };
        assert!(
            matches!(project_five.select(registries.clone()), Lookup::Found(found) if found.meta.id == "c")
        );
        assert_eq!(
            RegistryFilter::by_name("shar").select(registries),
            Lookup::NotFound
        );
    }

    #[test]
    fn descriptions_name_the_id_and_the_scope() {
        assert_eq!(
            describe_registry(&registry("b", "r", "project", Some(4))),
            "b (scope project, project_id 4)"
        );
        let filter = RegistryFilter {
            scope: Some(Scope::Project),
            project_id: Some(4),
            ..RegistryFilter::by_name("r")
        };
        assert_eq!(
            filter.describe(),
            "named \"r\" in project scope with project_id 4"
        );
    }
}
