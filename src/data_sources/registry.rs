//! `runai_registry` (data source): one registry asset, looked up by id or by name.
//!
//! Same skeleton as every type of the provider: state, schema, validation, read, mapping. The state
//! is the shared field set of [`super::registry_details`]; the attributes that select the registry
//! (`id`, or `name` with the optional scope fields) are optional arguments that the read fills in
//! when they are left out. The password is never read into it.

use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::{Attribute, AttributeConstraint, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use super::registry_details::{
    describe_registry, registry_detail_attributes, Lookup, RegistryDetails, RegistryFilter,
};
use crate::client::{Registry, Scope};
use crate::diagnostics;
use crate::provider::ProviderData;
use crate::validation;

const TYPE_NAME: &str = "runai_registry";

/// The arguments that choose the registry, with their documentation as arguments. Every other
/// attribute is computed.
const LOOKUP_ARGUMENTS: [(&str, &str); 6] = [
    (
        "id",
        "The id (a UUID) of the registry to look up. Set either `id` or `name`.",
    ),
    (
        "name",
        "The name of the registry to look up. Set either `id` or `name`. When registries of this \
         name exist in several scopes, add `scope` (and `cluster_id`, `department_id` or \
         `project_id`) to choose one.",
    ),
    (
        "scope",
        "With `name`: only consider registries of this scope (`system`, `tenant`, `cluster`, \
         `department` or `project`). Otherwise filled in from the registry found.",
    ),
    (
        "cluster_id",
        "With `name`: only consider registries of this cluster. Otherwise filled in from the \
         registry found.",
    ),
    (
        "department_id",
        "With `name`: only consider registries of this department. Otherwise filled in from the \
         registry found.",
    ),
    (
        "project_id",
        "With `name`: only consider registries of this project. Otherwise filled in from the \
         registry found.",
    ),
];

/// The `runai_registry` data source.
pub struct RegistryDataSource {
    provider: Arc<ProviderData>,
}

impl RegistryDataSource {
    pub fn new(provider: Arc<ProviderData>) -> RegistryDataSource {
        RegistryDataSource { provider }
    }
}

// ----- Schema -----

pub fn registry_data_source_schema() -> Schema {
    let attributes = registry_detail_attributes()
        .into_iter()
        .map(|detail| {
            let argument = LOOKUP_ARGUMENTS
                .iter()
                .find(|(name, _)| *name == detail.name);
            let (constraint, description) = match argument {
                Some((_, description)) => (AttributeConstraint::OptionalComputed, *description),
                None => (AttributeConstraint::Computed, detail.description),
            };
            let attribute = Attribute {
                attr_type: detail.attr_type,
                description: Description::markdown(description),
                constraint,
                sensitive: false,
                deprecated: false,
            };
            (detail.name.to_owned(), attribute)
        })
        .collect();
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "Looks up one registry asset by `id`, or by `name` (narrowed by `scope`, \
                 `cluster_id`, `department_id` or `project_id` when the name is used in several \
                 scopes), and exposes every field except its password, which is never read into a \
                 data source.",
            ),
            attributes,
            ..Default::default()
        },
    }
}

// ----- Validation -----

/// A problem with the arguments, attached to an attribute, or to none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupProblem {
    pub attribute: Option<&'static str>,
    pub message: String,
}

/// Checks the arguments: exactly one of `id` and `name`, the scope fields only with `name`, and each
/// known value well formed. Unknown values count as set, and are checked once they are known.
pub fn validate_lookup(config: &RegistryDetails) -> Vec<LookupProblem> {
    let mut problems = Vec::new();
    let mut problem = |attribute: Option<&'static str>, message: String| {
        problems.push(LookupProblem { attribute, message });
    };
    match (config.id.is_null(), config.name.is_null()) {
        (true, true) => problem(
            None,
            "Set either id or name: the runai_registry data source looks a registry up by its id, \
             or by its name (with scope, cluster_id, department_id or project_id to choose between \
             scopes)."
                .to_owned(),
        ),
        (false, false) => problem(
            Some("name"),
            "Set either id or name, not both: id alone already chooses one registry.".to_owned(),
        ),
        _ => {}
    }
    if !config.id.is_null() {
        let scope_fields = [
            ("scope", config.scope.is_null()),
            ("cluster_id", config.cluster_id.is_null()),
            ("department_id", config.department_id.is_null()),
            ("project_id", config.project_id.is_null()),
        ];
        for (attribute, is_null) in scope_fields {
            if !is_null {
                problem(
                    Some(attribute),
                    format!(
                        "{attribute} only narrows a lookup by name; with id, remove {attribute}."
                    ),
                );
            }
        }
    }
    if let Value::Value(id) = &config.id {
        if let Err(message) = validation::uuid(id) {
            problem(Some("id"), format!("id {message}."));
        }
    }
    if let Value::Value(name) = &config.name {
        if let Err(message) = validation::non_empty(name) {
            problem(Some("name"), format!("name {message}."));
        }
    }
    if let Value::Value(scope) = &config.scope {
        if Scope::parse(scope).is_none() {
            let known = Scope::ALL.map(Scope::as_str).join(", ");
            problem(
                Some("scope"),
                format!("scope must be one of {known}; got {scope:?}."),
            );
        }
    }
    if let Value::Value(cluster_id) = &config.cluster_id {
        if let Err(message) = validation::uuid(cluster_id) {
            problem(Some("cluster_id"), format!("cluster_id {message}."));
        }
    }
    if let Value::Value(department_id) = &config.department_id {
        if let Err(message) = validation::non_empty(department_id) {
            problem(Some("department_id"), format!("department_id {message}."));
        }
    }
    if let Value::Value(project_id) = &config.project_id {
        if let Err(message) = validation::project_id(*project_id) {
            problem(Some("project_id"), format!("project_id {message}."));
        }
    }
    problems
}

/// The filter of a lookup by name; `None` when the configuration does not look up by name.
fn name_filter(config: &RegistryDetails) -> Option<RegistryFilter> {
    Some(RegistryFilter {
        name: config.name.as_ref_option()?.clone(),
        scope: config
            .scope
            .as_ref_option()
            .and_then(|scope| Scope::parse(scope)),
        cluster_id: config.cluster_id.as_ref_option().cloned(),
        department_id: config.department_id.as_ref_option().cloned(),
        project_id: config.project_id.as_ref_option().copied(),
    })
}

/// The error detail when several registries match a lookup by name: their ids and scopes, and the
/// attribute that would choose one.
pub fn several_registries_detail(filter: &RegistryFilter, candidates: &[Registry]) -> String {
    let list: Vec<String> = candidates
        .iter()
        .map(|candidate| format!("  - {}", describe_registry(candidate)))
        .collect();
    let advice = match filter.distinguishing_attribute(candidates) {
        Some(attribute) => format!(
            "Add {attribute} to the data source to choose one, or look the registry up by id instead."
        ),
        None => "Look the registry up by id instead.".to_owned(),
    };
    format!(
        "{} registries are {}:\n{}\n{advice}",
        candidates.len(),
        filter.describe(),
        list.join("\n")
    )
}

// ----- Read -----

#[async_trait]
impl DataSource for RegistryDataSource {
    type State<'a> = RegistryDetails;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(registry_data_source_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        for problem in validate_lookup(&config) {
            let attribute = match problem.attribute {
                Some(name) => diagnostics::attribute(name),
                None => Default::default(),
            };
            diagnostics::error(
                diags,
                format!("Invalid {TYPE_NAME} argument"),
                problem.message,
                attribute,
            );
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let client = self.provider.client(diags)?;
        if let Value::Value(id) = &config.id {
            return match client.get_registry(id).await {
                Ok(registry) => Some(RegistryDetails::from_registry(&registry)),
                Err(error) if error.is_not_found() => {
                    diagnostics::error(
                        diags,
                        "No such registry",
                        format!("No registry has the id {id} on this control plane."),
                        diagnostics::attribute("id"),
                    );
                    None
                }
                Err(error) => {
                    diagnostics::api_error(diags, "Could not read the registry", &error);
                    None
                }
            };
        }
        let filter = name_filter(&config)?;
        let registries = match client.list_registries(Some(&filter.name)).await {
            Ok(registries) => registries,
            Err(error) => {
                diagnostics::api_error(diags, "Could not list the registries", &error);
                return None;
            }
        };
        match filter.select(registries) {
            Lookup::Found(registry) => Some(RegistryDetails::from_registry(&registry)),
            Lookup::NotFound => {
                diagnostics::error(
                    diags,
                    "No such registry",
                    format!(
                        "No registry is {} on this control plane (or the credentials cannot see it). \
                         The runai_registries data source lists the registries there are.",
                        filter.describe()
                    ),
                    diagnostics::attribute("name"),
                );
                None
            }
            Lookup::Several(candidates) => {
                diagnostics::error(
                    diags,
                    "Several registries match",
                    several_registries_detail(&filter, &candidates),
                    diagnostics::attribute("name"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name(name: &str) -> RegistryDetails {
        RegistryDetails {
            name: Value::Value(name.into()),
            ..Default::default()
        }
    }

    fn attributes(problems: &[LookupProblem]) -> Vec<Option<&'static str>> {
        problems.iter().map(|problem| problem.attribute).collect()
    }

    #[test]
    fn exactly_one_of_id_and_name_is_required() {
        let neither = validate_lookup(&RegistryDetails::default());
        assert_eq!(attributes(&neither), [None]);
        assert!(neither[0].message.contains("Set either id or name"));
        let both = RegistryDetails {
            id: Value::Value("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f".into()),
            ..by_name("r")
        };
        assert_eq!(attributes(&validate_lookup(&both)), [Some("name")]);
        assert!(validate_lookup(&by_name("r")).is_empty());
        let unknown_id = RegistryDetails {
            id: Value::Unknown,
            ..Default::default()
        };
        assert!(validate_lookup(&unknown_id).is_empty());
    }

    #[test]
    fn scope_fields_only_go_with_a_name_and_must_be_well_formed() {
        let id_with_scope = RegistryDetails {
            id: Value::Value("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f".into()),
            scope: Value::Value("tenant".into()),
            ..Default::default()
        };
        assert_eq!(
            attributes(&validate_lookup(&id_with_scope)),
            [Some("scope")]
        );
        let bad = RegistryDetails {
            scope: Value::Value("galaxy".into()),
            cluster_id: Value::Value("c1".into()),
            project_id: Value::Value(0),
            ..by_name("r")
        };
        assert_eq!(
            attributes(&validate_lookup(&bad)),
            [Some("scope"), Some("cluster_id"), Some("project_id")]
        );
    }

    #[test]
    fn the_schema_takes_lookup_arguments_and_computes_the_rest_without_a_password() {
        let schema = registry_data_source_schema();
        let attributes = &schema.block.attributes;
        for (name, _) in LOOKUP_ARGUMENTS {
            assert_eq!(
                attributes[name].constraint,
                AttributeConstraint::OptionalComputed,
                "{name}"
            );
        }
        assert_eq!(attributes["url"].constraint, AttributeConstraint::Computed);
        assert!(!attributes.contains_key("password"));
        assert_eq!(attributes.len(), registry_detail_attributes().len());
    }
}
