//! `runai_registry`: a registry asset of the Run:ai control plane.
//!
//! The file follows the same skeleton as every Terraform type of the provider: state, schema,
//! validation, plan, CRUD, import, and the mapping functions that cross between Terraform values and
//! the API client's models.
//!
//! The password needs care because the contract does not say how `GET` returns it. The provider
//! sends the configured password on create and update and keeps it in state; when reading, a
//! password the API returns in clear replaces it (so a change made outside Terraform shows as drift),
//! while a masked (`****`) or absent password leaves the state's as it is.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueNumber};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::client::{
    AssetCreationRequest, AssetUpdateRequest, DistFramework, Registry, RegistryCreationRequest,
    RegistrySpecRequest, RegistryUpdateRequest, Scope, WorkloadSupportedTypes,
    CREDENTIAL_KIND_PASSWORD,
};
use crate::data_sources::registry_details::{describe_registry, non_empty, Lookup, RegistryFilter};
use crate::diagnostics::{self, attribute};
use crate::provider::{string_attribute, typed_attribute, ProviderData};
use crate::validation;

// ----- State -----

/// The Terraform state of a `runai_registry`. `Debug` is not derived, so the password cannot be
/// printed by accident.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryState {
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
    pub password: Value<String>,
    #[serde(default)]
    pub credential_kind: Value<String>,
    #[serde(default, with = "tf_provider::value::serde_as_vec")]
    pub workload_supported_types: Value<WorkloadSupportedTypesState>,
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

/// The `workload_supported_types` block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSupportedTypesState {
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

/// What the provider keeps between plans that the state cannot say: which scope ids the configuration
/// set, as opposed to ids the control plane filled in. Both are Optional+Computed, so without this a
/// user's removal of an id would look like "keep what the server has", and silently do nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPrivateState {
    #[serde(default)]
    pub configured_cluster_id: bool,
    #[serde(default)]
    pub configured_department_id: bool,
}

impl RegistryPrivateState {
    /// What the configuration sets; an unknown value will be set, so it counts.
    fn from_config(config: &RegistryState) -> RegistryPrivateState {
        RegistryPrivateState {
            configured_cluster_id: !config.cluster_id.is_null(),
            configured_department_id: !config.department_id.is_null(),
        }
    }
}

/// The attributes that the control plane sets, unknown until it answers.
const COMPUTED_ATTRIBUTES: [&str; 7] = [
    "id",
    "kind",
    "tenant_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
];

/// The arguments whose change replaces the registry: the API cannot move an asset between scopes.
const REPLACING_ATTRIBUTES: [&str; 5] = [
    "scope",
    "cluster_id",
    "department_id",
    "project_id",
    "workload_supported_types",
];

// ----- Resource -----

/// The `runai_registry` resource.
pub struct RegistryResource {
    provider: Arc<ProviderData>,
}

impl RegistryResource {
    pub fn new(provider: Arc<ProviderData>) -> RegistryResource {
        RegistryResource { provider }
    }
}

// ----- Schema -----

/// The schema, with a description of every attribute for the generated documentation.
pub fn registry_schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
    let scopes = Scope::ALL.map(|scope| format!("`{scope}`")).join(", ");
    let frameworks = DistFramework::ALL
        .map(|framework| format!("`{}`", framework.as_str()))
        .join(", ");
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "A registry asset: the base URL and credentials of an OCI image registry, which Run:ai \
                 uses to list the repositories and tags that workloads can run.",
            ),
            attributes: map! {
                "id" => string_attribute(Computed, false, "The asset's id, a UUID."),
                "name" => string_attribute(Required, false,
                    "The asset's name, unique within its scope. Changes in place."),
                "description" => string_attribute(Optional, false,
                    "A description of at most 250 characters. Changes in place."),
                "scope" => string_attribute(Required, false, &format!(
                    "Where the asset can be used: one of {scopes}. `cluster` needs `cluster_id`, \
                     `department` needs `department_id`, `project` needs `project_id`. Changing it \
                     replaces the registry.")),
                "cluster_id" => string_attribute(OptionalComputed, false,
                    "The cluster's id (a UUID), for `cluster` scope, and optionally for `department` \
                     and `project` scope; the control plane may fill it in for those. Changing or \
                     removing it replaces the registry."),
                "department_id" => string_attribute(OptionalComputed, false,
                    "The department's id, for `department` scope, and optionally for `project` \
                     scope; the control plane may fill it in for that. Changing or removing it \
                     replaces the registry."),
                "project_id" => typed_attribute(AttributeType::Number, Optional,
                    "The project's id, for `project` scope. Changing it replaces the registry."),
                "url" => string_attribute(Required, false,
                    "The registry's base URL, such as `https://registry.example.com` or \
                     `registry.example.com:5000`. Changes in place."),
                "user" => string_attribute(Required, false,
                    "The user name for the registry. Changes in place."),
                "password" => string_attribute(Required, true,
                    "The password or access token for the registry. Sensitive: never shown in plans \
                     or logs. Changes in place."),
                "credential_kind" => string_attribute(OptionalComputed, false,
                    "The kind of credential; the API knows only `password`, the default."),
                "kind" => string_attribute(Computed, false, "The asset's kind, `registry`."),
                "tenant_id" => typed_attribute(AttributeType::Number, Computed,
                    "The id of the tenant that owns the asset."),
                "project_name" => string_attribute(Computed, false,
                    "The project's name, for `project` scope."),
                "created_by" => string_attribute(Computed, false, "Who created the asset."),
                "created_at" => string_attribute(Computed, false,
                    "When the asset was created (RFC 3339)."),
                "updated_by" => string_attribute(Computed, false, "Who last updated the asset."),
                "updated_at" => string_attribute(Computed, false,
                    "When the asset was last updated (RFC 3339).")
            },
            blocks: map! {
                "workload_supported_types" => NestedBlock::Optional(Block {
                    version: 1,
                    description: Description::markdown(
                        "Which workload types may use the asset. Changing it replaces the registry."),
                    attributes: map! {
                        "inference" => typed_attribute(AttributeType::Bool, Optional,
                            "Whether inference workloads may use the asset."),
                        "workspace" => typed_attribute(AttributeType::Bool, Optional,
                            "Whether workspaces may use the asset."),
                        "training" => typed_attribute(AttributeType::Bool, Optional,
                            "Whether training workloads may use the asset."),
                        "distributed" => typed_attribute(AttributeType::Bool, Optional,
                            "Whether distributed workloads may use the asset."),
                        "dist_framework" => string_attribute(Optional, false, &format!(
                            "The distributed training framework: one of {frameworks}."))
                    },
                    ..Default::default()
                })
            },
            ..Default::default()
        },
    }
}

// ----- Validation -----

/// A problem with the configuration, attached to an attribute path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    pub path: Vec<&'static str>,
    pub message: String,
}

impl InputProblem {
    fn new(path: &[&'static str], message: impl Into<String>) -> InputProblem {
        InputProblem {
            path: path.to_vec(),
            message: message.into(),
        }
    }

    fn attribute_path(&self) -> AttributePath {
        let mut path = AttributePath::default();
        for (index, step) in self.path.iter().enumerate() {
            path.add_attribute(*step);
            // A single nested block travels as a list of one element.
            if index == 0 && self.path.len() > 1 {
                path.add_index(0);
            }
        }
        path
    }
}

/// Checks every known value of a configuration; unknown values are checked at apply time instead.
pub fn validate_registry(config: &RegistryState) -> Vec<InputProblem> {
    let mut problems = Vec::new();
    let mut check =
        |path: &[&'static str], value: &Value<String>, rule: fn(&str) -> Result<(), String>| {
            if let Value::Value(text) = value {
                if let Err(message) = rule(text) {
                    problems.push(InputProblem::new(
                        path,
                        format!("{} {message}.", path.join(".")),
                    ));
                }
            }
        };
    check(&["name"], &config.name, validation::non_empty);
    check(
        &["description"],
        &config.description,
        validation::description,
    );
    check(&["url"], &config.url, validation::registry_url);
    check(&["user"], &config.user, validation::present);
    check(&["password"], &config.password, validation::present);
    check(&["cluster_id"], &config.cluster_id, validation::uuid);
    check(
        &["department_id"],
        &config.department_id,
        validation::non_empty,
    );
    if let Value::Value(id) = &config.project_id {
        if let Err(message) = validation::project_id(*id) {
            problems.push(InputProblem::new(
                &["project_id"],
                format!("project_id {message}."),
            ));
        }
    }
    if let Value::Value(kind) = &config.credential_kind {
        if kind != CREDENTIAL_KIND_PASSWORD {
            problems.push(InputProblem::new(
                &["credential_kind"],
                format!("credential_kind must be \"password\", the only kind the API knows; got {kind:?}."),
            ));
        }
    }
    if let Value::Value(types) = &config.workload_supported_types {
        if let Value::Value(framework) = &types.dist_framework {
            if DistFramework::parse(framework).is_none() {
                let known = DistFramework::ALL.map(DistFramework::as_str).join(", ");
                problems.push(InputProblem::new(
                    &["workload_supported_types", "dist_framework"],
                    format!("dist_framework must be one of {known}; got {framework:?}."),
                ));
            }
        }
    }
    if let Value::Value(scope_text) = &config.scope {
        match Scope::parse(scope_text) {
            None => {
                let known = Scope::ALL.map(Scope::as_str).join(", ");
                problems.push(InputProblem::new(
                    &["scope"],
                    format!("scope must be one of {known}; got {scope_text:?}."),
                ));
            }
            Some(scope) => problems.extend(validate_scope_ids(scope, config)),
        }
    }
    problems
}

/// Each scope needs its own id and refuses the ids of narrower scopes.
fn validate_scope_ids(scope: Scope, config: &RegistryState) -> Vec<InputProblem> {
    let is_set = |value: &Value<String>| !value.is_null();
    let ids = [
        ("cluster_id", Scope::Cluster, is_set(&config.cluster_id)),
        (
            "department_id",
            Scope::Department,
            is_set(&config.department_id),
        ),
        ("project_id", Scope::Project, !config.project_id.is_null()),
    ];
    // How narrow each scope is; an id is allowed up to the scope's own level.
    let level = |scope: Scope| match scope {
        Scope::System | Scope::Tenant | Scope::Unknown => 0,
        Scope::Cluster => 1,
        Scope::Department => 2,
        Scope::Project => 3,
    };
    let mut problems = Vec::new();
    for (name, id_scope, set) in ids {
        if id_scope == scope && !set {
            problems.push(InputProblem::new(
                &[name],
                format!("scope \"{scope}\" needs {name}: set it to the {id_scope}'s id."),
            ));
        } else if set && level(id_scope) > level(scope) {
            problems.push(InputProblem::new(
                &[name],
                format!(
                    "{name} does not belong to scope \"{scope}\": remove it, or set scope = \"{id_scope}\"."
                ),
            ));
        }
    }
    problems
}

/// Reports problems as diagnostics on their attributes.
fn report(diags: &mut Diagnostics, problems: Vec<InputProblem>) {
    for problem in problems {
        let path = problem.attribute_path();
        diagnostics::error(
            diags,
            "Invalid runai_registry argument",
            problem.message,
            path,
        );
    }
}

// ----- Plan -----

/// Fills what a new registry's plan needs: the default credential kind, and unknown values for
/// whatever the control plane will set.
fn plan_new(mut state: RegistryState) -> RegistryState {
    if state.credential_kind.is_null() {
        state.credential_kind = Value::Value(CREDENTIAL_KIND_PASSWORD.to_owned());
    }
    for name in COMPUTED_ATTRIBUTES {
        set_unknown(&mut state, name);
    }
    let scope = state
        .scope
        .as_ref_option()
        .and_then(|scope| Scope::parse(scope));
    let unknown_scope = state.scope.is_unknown();
    // A control plane may fill in the broader ids of a narrow scope (a project's department and
    // cluster); for those the plan says "known after apply" instead of promising null.
    let may_be_filled = |broader: Scope| {
        unknown_scope
            || matches!(
                (scope, broader),
                (Some(Scope::Department), Scope::Cluster)
                    | (Some(Scope::Project), Scope::Cluster)
                    | (Some(Scope::Project), Scope::Department)
            )
    };
    if state.cluster_id.is_null() && may_be_filled(Scope::Cluster) {
        state.cluster_id = Value::Unknown;
    }
    if state.department_id.is_null() && may_be_filled(Scope::Department) {
        state.department_id = Value::Unknown;
    }
    state.project_name = if unknown_scope || scope == Some(Scope::Project) {
        Value::Unknown
    } else {
        Value::Null
    };
    state
}

fn set_unknown(state: &mut RegistryState, name: &str) {
    match name {
        "id" => state.id = Value::Unknown,
        "kind" => state.kind = Value::Unknown,
        "tenant_id" => state.tenant_id = Value::Unknown,
        "created_by" => state.created_by = Value::Unknown,
        "created_at" => state.created_at = Value::Unknown,
        "updated_by" => state.updated_by = Value::Unknown,
        "updated_at" => state.updated_at = Value::Unknown,
        _ => unreachable!("{name} is not a computed attribute"),
    }
}

/// The arguments whose change forces a new registry, comparing the prior state and the plan.
fn replacing_changes(prior: &RegistryState, planned: &RegistryState) -> Vec<AttributePath> {
    let changed = [
        prior.scope != planned.scope,
        prior.cluster_id != planned.cluster_id,
        prior.department_id != planned.department_id,
        prior.project_id != planned.project_id,
        prior.workload_supported_types != planned.workload_supported_types,
    ];
    REPLACING_ATTRIBUTES
        .iter()
        .zip(changed)
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| attribute(name))
        .collect()
}

/// Applies the removal of scope ids that the configuration used to set: the plan drops them, which
/// `replacing_changes` then sees as the change of scope it is.
fn plan_removed_scope_ids(
    planned: &mut RegistryState,
    config: &RegistryState,
    prior_private: &RegistryPrivateState,
) {
    if prior_private.configured_cluster_id && config.cluster_id.is_null() {
        planned.cluster_id = Value::Null;
    }
    if prior_private.configured_department_id && config.department_id.is_null() {
        planned.department_id = Value::Null;
    }
}

/// True when an argument that the API updates in place differs.
fn has_in_place_changes(prior: &RegistryState, planned: &RegistryState) -> bool {
    prior.name != planned.name
        || prior.description != planned.description
        || prior.url != planned.url
        || prior.user != planned.user
        || prior.password != planned.password
        || prior.credential_kind != planned.credential_kind
}

// ----- Mapping -----

/// A value the plan promised to be known at apply time.
fn known<'a>(value: &'a Value<String>, name: &str) -> Result<&'a str, String> {
    match value {
        Value::Value(text) => Ok(text),
        Value::Null => Err(format!("{name} is required")),
        Value::Unknown => Err(format!("{name} is still unknown at apply time")),
    }
}

/// The API's creation request for a planned registry.
pub fn creation_request(planned: &RegistryState) -> Result<RegistryCreationRequest, String> {
    let scope_text = known(&planned.scope, "scope")?;
    let scope = Scope::parse(scope_text).ok_or_else(|| format!("unknown scope {scope_text:?}"))?;
    let workload_supported_types = match &planned.workload_supported_types {
        Value::Value(types) => Some(workload_types_request(types)?),
        _ => None,
    };
    Ok(RegistryCreationRequest {
        meta: AssetCreationRequest {
            name: known(&planned.name, "name")?.to_owned(),
            description: planned.description.as_ref_option().cloned(),
            scope,
            cluster_id: planned.cluster_id.as_ref_option().cloned(),
            department_id: planned.department_id.as_ref_option().cloned(),
            project_id: planned.project_id.as_ref_option().copied(),
            workload_supported_types,
        },
        spec: spec_request(planned)?,
    })
}

/// The API's update request: the updatable meta fields and the whole spec, as the contract requires.
pub fn update_request(planned: &RegistryState) -> Result<RegistryUpdateRequest, String> {
    Ok(RegistryUpdateRequest {
        meta: AssetUpdateRequest {
            name: known(&planned.name, "name")?.to_owned(),
            description: planned.description.as_ref_option().cloned(),
        },
        spec: spec_request(planned)?,
    })
}

fn spec_request(planned: &RegistryState) -> Result<RegistrySpecRequest, String> {
    Ok(RegistrySpecRequest {
        url: known(&planned.url, "url")?.to_owned(),
        credential_kind: planned
            .credential_kind
            .as_ref_option()
            .cloned()
            .unwrap_or_else(|| CREDENTIAL_KIND_PASSWORD.to_owned()),
        user: known(&planned.user, "user")?.to_owned(),
        password: known(&planned.password, "password")?.to_owned(),
    })
}

fn workload_types_request(
    types: &WorkloadSupportedTypesState,
) -> Result<WorkloadSupportedTypes, String> {
    let dist_framework = match &types.dist_framework {
        Value::Value(text) => Some(
            DistFramework::parse(text).ok_or_else(|| format!("unknown dist_framework {text:?}"))?,
        ),
        _ => None,
    };
    Ok(WorkloadSupportedTypes {
        inference: types.inference.as_ref_option().copied(),
        workspace: types.workspace.as_ref_option().copied(),
        training: types.training.as_ref_option().copied(),
        distributed: types.distributed.as_ref_option().copied(),
        dist_framework,
    })
}

/// True for a password the API masked rather than returned: empty, or only asterisks.
pub fn is_masked_password(password: &str) -> bool {
    password.chars().all(|character| character == '*')
}

/// The state of a registry as the API answered it. `prior` supplies what the API does not return
/// faithfully: the password when it is masked or absent, and the exact shape of the optional block.
pub fn state_from_registry(registry: &Registry, prior: &RegistryState) -> RegistryState {
    let meta = &registry.meta;
    let password = match registry.spec.password.as_deref() {
        Some(password) if !is_masked_password(password) => Value::Value(password.to_owned()),
        _ => prior.password.clone(),
    };
    RegistryState {
        id: Value::Value(meta.id.clone()),
        name: Value::Value(meta.name.clone()),
        description: non_empty(meta.description.as_deref()),
        scope: Value::Value(meta.scope.as_str().to_owned()),
        cluster_id: non_empty(meta.cluster_id.as_deref()),
        department_id: non_empty(meta.department_id.as_deref()),
        project_id: meta.project_id.into(),
        url: Value::Value(registry.spec.url.clone()),
        user: Value::Value(registry.spec.user.clone()),
        password,
        credential_kind: Value::Value(registry.spec.credential_kind.clone()),
        workload_supported_types: workload_types_state(
            meta.workload_supported_types.as_ref(),
            &prior.workload_supported_types,
        ),
        kind: Value::Value(meta.kind.clone()),
        tenant_id: meta.tenant_id.into(),
        project_name: non_empty(meta.project_name.as_deref()),
        created_by: Value::Value(meta.created_by.clone()),
        created_at: Value::Value(meta.created_at.clone()),
        updated_by: Value::Value(meta.updated_by.clone()),
        updated_at: Value::Value(meta.updated_at.clone()),
    }
}

/// Maps the API's block. A control plane may answer an empty object, or `false` where nothing was
/// set; neither is a change the user made, so both keep what the prior state said.
fn workload_types_state(
    api: Option<&WorkloadSupportedTypes>,
    prior: &Value<WorkloadSupportedTypesState>,
) -> Value<WorkloadSupportedTypesState> {
    let prior_block = prior.as_ref_option();
    let api = match api {
        Some(api) if *api != WorkloadSupportedTypes::default() => api,
        // Empty on the API side: keep an empty block the user wrote, else no block.
        _ => {
            return match prior_block {
                Some(block) if *block == WorkloadSupportedTypesState::default() => prior.clone(),
                _ => Value::Null,
            }
        }
    };
    let flag = |api: Option<bool>, prior: Option<&ValueBool>| match (api, prior) {
        (Some(false), Some(Value::Null)) => Value::Null,
        (value, _) => value.into(),
    };
    Value::Value(WorkloadSupportedTypesState {
        inference: flag(api.inference, prior_block.map(|block| &block.inference)),
        workspace: flag(api.workspace, prior_block.map(|block| &block.workspace)),
        training: flag(api.training, prior_block.map(|block| &block.training)),
        distributed: flag(api.distributed, prior_block.map(|block| &block.distributed)),
        dist_framework: api
            .dist_framework
            .map(|framework| framework.as_str().to_owned())
            .into(),
    })
}

// ----- CRUD and import -----

#[async_trait]
impl Resource for RegistryResource {
    type State<'a> = RegistryState;
    type PrivateState<'a> = Value<RegistryPrivateState>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(registry_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        report(diags, validate_registry(&config));
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let id = state.id.as_ref_option()?.clone();
        let client = self.provider.client(diags)?;
        match client.get_registry(&id).await {
            Ok(registry) => Some((state_from_registry(&registry, &state), private_state)),
            // Deleted outside Terraform: returning nothing without an error removes it from state,
            // and the next plan offers to create it again.
            Err(error) if error.is_not_found() => None,
            Err(error) => {
                diagnostics::api_error(diags, "Could not read the registry", &error);
                None
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let private = RegistryPrivateState::from_config(&config_state);
        Some((plan_new(proposed_state), Value::Value(private)))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut planned = proposed_state;
        if planned.credential_kind.is_null() {
            planned.credential_kind = Value::Value(CREDENTIAL_KIND_PASSWORD.to_owned());
        }
        // A state from before private state existed, or from an import, says nothing was configured.
        let prior_private = prior_private_state.as_option().unwrap_or_default();
        plan_removed_scope_ids(&mut planned, &config_state, &prior_private);
        let private = Value::Value(RegistryPrivateState::from_config(&config_state));
        let replacing = replacing_changes(&prior_state, &planned);
        if !replacing.is_empty() {
            return Some((plan_new(planned), private, replacing));
        }
        // The timestamps of the last update change only when an update is really sent; marking them
        // unknown otherwise would make an empty plan non-empty, and the opposite would make the
        // update's answer "inconsistent" with the plan.
        if has_in_place_changes(&prior_state, &planned) {
            planned.updated_at = Value::Unknown;
            planned.updated_by = Value::Unknown;
        }
        Some((planned, private, Vec::new()))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(prior_private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let request = match creation_request(&planned_state) {
            Ok(request) => request,
            Err(message) => {
                diagnostics::error_root(diags, "Invalid runai_registry argument", message);
                return None;
            }
        };
        let client = self.provider.client(diags)?;
        match client.create_registry(&request).await {
            Ok(registry) => Some((
                state_from_registry(&registry, &planned_state),
                planned_private_state,
            )),
            Err(error) => {
                diagnostics::api_error(diags, "Could not create the registry", &error);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let id = prior_state.id.as_ref_option()?.clone();
        let request = match update_request(&planned_state) {
            Ok(request) => request,
            Err(message) => {
                diagnostics::error_root(diags, "Invalid runai_registry argument", message);
                return None;
            }
        };
        let client = self.provider.client(diags)?;
        match client.update_registry(&id, &request).await {
            Ok(registry) => Some((
                state_from_registry(&registry, &planned_state),
                planned_private_state,
            )),
            Err(error) => {
                let action = if error.is_not_found() {
                    "Could not update the registry: it was deleted outside Terraform (run terraform \
                     apply again to create it)"
                } else {
                    "Could not update the registry"
                };
                diagnostics::api_error(diags, action, &error);
                None
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let Some(id) = prior_state.id.as_ref_option() else {
            return Some(());
        };
        let client = self.provider.client(diags)?;
        match client.delete_registry(id).await {
            Ok(()) => Some(()),
            Err(error) => {
                diagnostics::api_error(diags, "Could not delete the registry", &error);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let import_id = match parse_import_id(&id) {
            Ok(import_id) => import_id,
            Err(message) => {
                diagnostics::error_root(diags, "Invalid import id", message);
                return None;
            }
        };
        let client = self.provider.client(diags)?;
        let registry = match import_id {
            ImportId::Id(id) => match client.get_registry(&id).await {
                Ok(registry) => registry,
                Err(error) if error.is_not_found() => {
                    diagnostics::error_root(
                        diags,
                        "Cannot import a registry that does not exist",
                        format!("No registry has the id {id} on this control plane."),
                    );
                    return None;
                }
                Err(error) => {
                    diagnostics::api_error(diags, "Could not import the registry", &error);
                    return None;
                }
            },
            ImportId::Name(filter) => {
                let registries = match client.list_registries(Some(&filter.name)).await {
                    Ok(registries) => registries,
                    Err(error) => {
                        diagnostics::api_error(diags, "Could not import the registry", &error);
                        return None;
                    }
                };
                match filter.select(registries) {
                    Lookup::Found(registry) => *registry,
                    Lookup::NotFound => {
                        diagnostics::error_root(
                            diags,
                            "Cannot import a registry that does not exist",
                            format!(
                                "No registry is {} on this control plane (or the credentials \
                                 cannot see it).",
                                filter.describe()
                            ),
                        );
                        return None;
                    }
                    Lookup::Several(candidates) => {
                        diagnostics::error_root(
                            diags,
                            "The import id matches several registries",
                            ambiguous_import_detail(&filter, &candidates),
                        );
                        return None;
                    }
                }
            }
        };
        Some((
            state_from_registry(&registry, &RegistryState::default()),
            Value::Null,
        ))
    }
}

// ----- Import ids -----

/// The forms of import id `runai_registry` accepts, for error messages.
const IMPORT_ID_FORMS: &str = "Import a registry by its id:\n  \
    terraform import runai_registry.<resource name> 0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f\n\
    by a name that is unique across scopes:\n  \
    terraform import runai_registry.<resource name> name=my-registry\n\
    or by a name within a scope (system, tenant, cluster, department or project):\n  \
    terraform import runai_registry.<resource name> tenant/my-registry";

/// What an import id names: a registry by id, or the registry that a name (and scope) selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportId {
    Id(String),
    Name(RegistryFilter),
}

/// Parses an import id: a UUID, `name=<name>` (unique across scopes), or `<scope>/<name>` (unique
/// within the scope). A name may itself hold `/` or `=`, since only the first `/` and a leading
/// `name=` mean anything here.
pub fn parse_import_id(text: &str) -> Result<ImportId, String> {
    if validation::uuid(text).is_ok() {
        return Ok(ImportId::Id(text.to_owned()));
    }
    if let Some(name) = text.strip_prefix("name=") {
        if name.trim().is_empty() {
            return Err(format!(
                "The import id {text:?} has no name after name=.\n\n{IMPORT_ID_FORMS}"
            ));
        }
        return Ok(ImportId::Name(RegistryFilter::by_name(name)));
    }
    if let Some((scope_text, name)) = text.split_once('/') {
        let Some(scope) = Scope::parse(scope_text) else {
            let known = Scope::ALL.map(Scope::as_str).join(", ");
            return Err(format!(
                "The import id {text:?} starts with {scope_text:?}, which is not a scope; use one \
                 of {known}.\n\n{IMPORT_ID_FORMS}"
            ));
        };
        if name.trim().is_empty() {
            return Err(format!(
                "The import id {text:?} has no name after {scope_text}/.\n\n{IMPORT_ID_FORMS}"
            ));
        }
        return Ok(ImportId::Name(RegistryFilter {
            scope: Some(scope),
            ..RegistryFilter::by_name(name)
        }));
    }
    Err(format!(
        "The import id {text:?} is neither a registry id (a UUID), nor name=<name>, nor \
         <scope>/<name>. To import the registry named {text:?}, use name={text}.\n\n{IMPORT_ID_FORMS}"
    ))
}

/// The error detail when an import by name matches several registries: each candidate with its
/// scope and the exact command that imports it by id, and by `<scope>/<name>` when that form would
/// be unique.
pub fn ambiguous_import_detail(filter: &RegistryFilter, candidates: &[Registry]) -> String {
    let command = "terraform import runai_registry.<resource name>";
    let commands: Vec<String> = candidates
        .iter()
        .map(|candidate| {
            let mut text = format!(
                "  {}\n    {command} {}",
                describe_registry(candidate),
                candidate.meta.id
            );
            let alone_in_scope = candidates
                .iter()
                .filter(|other| other.meta.scope == candidate.meta.scope)
                .count()
                == 1;
            if filter.scope.is_none() && alone_in_scope {
                text.push_str(&format!(
                    "\n    or: {command} {}/{}",
                    candidate.meta.scope, candidate.meta.name
                ));
            }
            text
        })
        .collect();
    format!(
        "{} registries are {}. Import the one you mean by its id:\n{}",
        candidates.len(),
        filter.describe(),
        commands.join("\n")
    )
}

#[cfg(test)]
mod import_tests {
    use super::*;

    fn registry(id: &str, scope: &str, project_id: Option<i64>) -> Registry {
        serde_json::from_value(serde_json::json!({
            "meta": {"name": "shared", "scope": scope, "id": id, "projectId": project_id,
                     "kind": "registry", "createdBy": "a", "createdAt": "t", "updatedBy": "a",
                     "updatedAt": "t"},
            "spec": {"url": "https://r", "credentialKind": "password", "user": "u"}
        }))
        .unwrap()
    }

    #[test]
    fn an_import_id_is_a_uuid_a_name_or_a_scoped_name() {
        let uuid = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f";
        assert_eq!(parse_import_id(uuid), Ok(ImportId::Id(uuid.into())));
        assert_eq!(
            parse_import_id("name=my-registry"),
            Ok(ImportId::Name(RegistryFilter::by_name("my-registry")))
        );
        assert_eq!(
            parse_import_id("project/team/mirror"),
            Ok(ImportId::Name(RegistryFilter {
                scope: Some(Scope::Project),
                ..RegistryFilter::by_name("team/mirror")
            }))
        );
        assert_eq!(
            parse_import_id("name=a=b"),
            Ok(ImportId::Name(RegistryFilter::by_name("a=b")))
        );
    }

    #[test]
    fn a_bad_import_id_says_which_forms_work() {
        let bare = parse_import_id("my-registry").unwrap_err();
        assert!(bare.contains("use name=my-registry"), "{bare}");
        assert!(bare.contains("tenant/my-registry"), "{bare}");
        let bad_scope = parse_import_id("galaxy/my-registry").unwrap_err();
        assert!(
            bad_scope.contains("\"galaxy\", which is not a scope"),
            "{bad_scope}"
        );
        assert!(parse_import_id("name=")
            .unwrap_err()
            .contains("no name after name="));
        assert!(parse_import_id("tenant/")
            .unwrap_err()
            .contains("no name after tenant/"));
        assert!(parse_import_id("0b8c8f0e5d1a4c1e9a573f4b1c2d3e4f").is_err());
    }

    #[test]
    fn an_ambiguous_import_lists_each_candidate_with_its_command() {
        let candidates = [
            registry("11111111-1111-4111-8111-111111111111", "tenant", None),
            registry("22222222-2222-4222-8222-222222222222", "project", Some(4)),
            registry("33333333-3333-4333-8333-333333333333", "project", Some(5)),
        ];
        let detail = ambiguous_import_detail(&RegistryFilter::by_name("shared"), &candidates);
        assert!(
            detail.starts_with("3 registries are named \"shared\""),
            "{detail}"
        );
        assert!(
            detail.contains(
                "  22222222-2222-4222-8222-222222222222 (scope project, project_id 4)\n    \
                 terraform import runai_registry.<resource name> 22222222-2222-4222-8222-222222222222\n"
            ),
            "{detail}"
        );
        // Only the tenant registry is alone in its scope, so only it gets the scoped form.
        assert!(
            detail.contains("or: terraform import runai_registry.<resource name> tenant/shared"),
            "{detail}"
        );
        assert!(!detail.contains("project/shared"), "{detail}");
        let scoped = RegistryFilter {
            scope: Some(Scope::Project),
            ..RegistryFilter::by_name("shared")
        };
        assert!(!ambiguous_import_detail(&scoped, &candidates[1..]).contains("or:"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(scope: &str) -> RegistryState {
        RegistryState {
            name: Value::Value("r".into()),
            scope: Value::Value(scope.into()),
            url: Value::Value("https://registry.example.com".into()),
            user: Value::Value("u".into()),
            password: Value::Value("p".into()),
            ..Default::default()
        }
    }

    fn paths(problems: &[InputProblem]) -> Vec<String> {
        problems
            .iter()
            .map(|problem| problem.path.join("."))
            .collect()
    }

    #[test]
    fn a_complete_tenant_configuration_is_valid() {
        assert!(validate_registry(&config("tenant")).is_empty());
    }

    #[test]
    fn each_scope_needs_its_id_and_refuses_narrower_ones() {
        assert_eq!(
            paths(&validate_registry(&config("project"))),
            ["project_id"]
        );
        assert_eq!(
            paths(&validate_registry(&config("cluster"))),
            ["cluster_id"]
        );
        let mut tenant_with_project = config("tenant");
        tenant_with_project.project_id = Value::Value(4);
        let problems = validate_registry(&tenant_with_project);
        assert_eq!(paths(&problems), ["project_id"]);
        assert!(problems[0]
            .message
            .contains("does not belong to scope \"tenant\""));
        let mut project = config("project");
        project.project_id = Value::Value(4);
        project.department_id = Value::Value("12".into());
        assert!(validate_registry(&project).is_empty());
    }

    #[test]
    fn unknown_values_are_not_judged_at_plan_time() {
        let mut unknown = config("tenant");
        unknown.url = Value::Unknown;
        unknown.scope = Value::Unknown;
        assert!(validate_registry(&unknown).is_empty());
    }

    #[test]
    fn a_bad_dist_framework_points_into_the_block() {
        let mut bad = config("tenant");
        bad.workload_supported_types = Value::Value(WorkloadSupportedTypesState {
            dist_framework: Value::Value("Horovod".into()),
            ..Default::default()
        });
        let problems = validate_registry(&bad);
        assert_eq!(
            paths(&problems),
            ["workload_supported_types.dist_framework"]
        );
        assert_eq!(problems[0].attribute_path().steps.len(), 3);
    }

    #[test]
    fn masked_absent_and_clear_passwords_map_as_documented() {
        let registry: Registry = serde_json::from_value(serde_json::json!({
            "meta": {"name": "r", "scope": "tenant", "id": "7d3c1e8e-1111-4a4a-9b9b-000000000001",
                     "kind": "registry", "createdBy": "a", "createdAt": "t", "updatedBy": "a",
                     "updatedAt": "t"},
            "spec": {"url": "https://r", "credentialKind": "password", "user": "u",
                     "password": "********"}
        }))
        .unwrap();
        let prior = config("tenant");
        assert_eq!(
            state_from_registry(&registry, &prior).password,
            Value::Value("p".into())
        );
        let mut absent = registry.clone();
        absent.spec.password = None;
        assert_eq!(
            state_from_registry(&absent, &prior).password,
            Value::Value("p".into())
        );
        let mut changed = registry;
        changed.spec.password = Some("changed-outside".into());
        assert_eq!(
            state_from_registry(&changed, &prior).password,
            Value::Value("changed-outside".into())
        );
    }

    #[test]
    fn a_scope_change_replaces_and_a_rename_updates_in_place() {
        let prior = config("tenant");
        let mut moved = config("cluster");
        moved.cluster_id = Value::Value("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f".into());
        assert_eq!(
            replacing_changes(&prior, &moved),
            [attribute("scope"), attribute("cluster_id")]
        );
        let mut retyped = config("tenant");
        retyped.workload_supported_types = Value::Value(WorkloadSupportedTypesState {
            training: Value::Value(true),
            ..Default::default()
        });
        assert_eq!(
            replacing_changes(&prior, &retyped),
            [attribute("workload_supported_types")]
        );
        let mut renamed = config("tenant");
        renamed.name = Value::Value("other".into());
        assert!(replacing_changes(&prior, &renamed).is_empty());
        assert!(has_in_place_changes(&prior, &renamed));
        assert!(!has_in_place_changes(&prior, &config("tenant")));
    }

    #[test]
    fn removing_a_configured_scope_id_is_a_change_but_a_filled_in_one_is_not() {
        let mut prior = config("project");
        prior.project_id = Value::Value(4);
        prior.department_id = Value::Value("12".into());
        let mut config_without_id = prior.clone();
        config_without_id.department_id = Value::Null;

        // The user had set it: dropping it from the configuration replaces the registry.
        let mut planned = prior.clone();
        let configured = RegistryPrivateState {
            configured_department_id: true,
            ..Default::default()
        };
        plan_removed_scope_ids(&mut planned, &config_without_id, &configured);
        assert!(planned.department_id.is_null());
        assert_eq!(replacing_changes(&prior, &planned).len(), 1);

        // The control plane had filled it in: nothing changes.
        let mut planned = prior.clone();
        plan_removed_scope_ids(
            &mut planned,
            &config_without_id,
            &RegistryPrivateState::default(),
        );
        assert!(replacing_changes(&prior, &planned).is_empty());
    }

    #[test]
    fn a_new_plan_marks_what_the_server_sets_unknown() {
        let planned = plan_new(config("project"));
        assert!(planned.id.is_unknown() && planned.created_at.is_unknown());
        assert!(planned.project_name.is_unknown() && planned.cluster_id.is_unknown());
        assert_eq!(planned.credential_kind, Value::Value("password".into()));
        let tenant = plan_new(config("tenant"));
        assert!(tenant.cluster_id.is_null() && tenant.project_name.is_null());
    }
}
