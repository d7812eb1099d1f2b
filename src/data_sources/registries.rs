//! `runai_registries`: the registry assets of the control plane, optionally only those of one name.
//!
//! Same skeleton as every type of the provider: state, schema, validation, read, mapping. Each
//! registry is one object with the fields of [`super::registry_details`], never its password.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, DataSource, Diagnostics};

use super::registry_details::{registry_details_type, RegistryDetails};
use crate::diagnostics;
use crate::provider::{string_attribute, typed_attribute, ProviderData};
use crate::validation;

const TYPE_NAME: &str = "runai_registries";

// ----- State -----

/// The data source's arguments and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistriesState {
    #[serde(default)]
    pub name: Value<String>,
    #[serde(default)]
    pub registries: Value<Vec<Value<RegistryDetails>>>,
}

/// The `runai_registries` data source.
pub struct RegistriesDataSource {
    provider: Arc<ProviderData>,
}

impl RegistriesDataSource {
    pub fn new(provider: Arc<ProviderData>) -> RegistriesDataSource {
        RegistriesDataSource { provider }
    }
}

// ----- Schema -----

pub fn registries_schema() -> Schema {
    use AttributeConstraint::{Computed, Optional};
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "Lists the registry assets the provider's credentials can see, in every scope. Each \
                 registry shows every field except its password, which is never read into a data \
                 source.",
            ),
            attributes: map! {
                "name" => string_attribute(Optional, false,
                    "Only list registries with exactly this name (one per scope at most)."),
                "registries" => typed_attribute(
                    AttributeType::List(Box::new(registry_details_type())), Computed,
                    "The registries, in the order the control plane lists them. Each has the \
                     attributes of the `runai_registry` data source: `id`, `name`, `description`, \
                     `scope`, `cluster_id`, `department_id`, `project_id`, `url`, `user`, \
                     `credential_kind`, `workload_supported_types`, `kind`, `tenant_id`, \
                     `project_name`, `created_by`, `created_at`, `updated_by` and `updated_at`.")
            },
            ..Default::default()
        },
    }
}

// ----- Read -----

#[async_trait]
impl DataSource for RegistriesDataSource {
    type State<'a> = RegistriesState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(registries_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Value::Value(name) = &config.name {
            if let Err(message) = validation::non_empty(name) {
                diagnostics::error(
                    diags,
                    format!("Invalid {TYPE_NAME} argument"),
                    format!("name {message}; leave it out to list every registry."),
                    diagnostics::attribute("name"),
                );
            }
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
        let name = config.name.as_deref_option();
        match client.list_registries(name).await {
            Ok(registries) => Some(RegistriesState {
                registries: Value::Value(
                    registries
                        .iter()
                        // The name is compared again in case a control plane matches loosely.
                        .filter(|registry| name.map_or(true, |name| registry.meta.name == name))
                        .map(|registry| Value::Value(RegistryDetails::from_registry(registry)))
                        .collect(),
                ),
                ..config
            }),
            Err(error) => {
                diagnostics::api_error(diags, "Could not list the registries", &error);
                None
            }
        }
    }
}
