//! `runai_registry_repositories`: the repositories a registry asset's OCI registry holds.
//!
//! Same skeleton as every type of the provider: state, schema, validation, read, mapping.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, DataSource, Diagnostics};

use super::{string_list, validate_common};
use crate::diagnostics;
use crate::provider::{string_attribute, typed_attribute, ProviderData};

const TYPE_NAME: &str = "runai_registry_repositories";

// ----- State -----

/// The data source's arguments and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryRepositoriesState {
    #[serde(default)]
    pub registry_id: Value<String>,
    #[serde(default)]
    pub search_name: Value<String>,
    #[serde(default)]
    pub repositories: Value<Vec<Value<String>>>,
}

/// The `runai_registry_repositories` data source.
pub struct RegistryRepositoriesDataSource {
    provider: Arc<ProviderData>,
}

impl RegistryRepositoriesDataSource {
    pub fn new(provider: Arc<ProviderData>) -> RegistryRepositoriesDataSource {
        RegistryRepositoriesDataSource { provider }
    }
}

// ----- Schema -----

pub fn registry_repositories_schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, Required};
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "Lists the repositories of the OCI registry behind a registry asset, read live through \
                 the control plane with the asset's credentials.",
            ),
            attributes: map! {
                "registry_id" => string_attribute(Required, false,
                    "The id of the registry asset, such as `runai_registry.example.id`."),
                "search_name" => string_attribute(Optional, false,
                    "Only list repositories whose name contains this text."),
                "repositories" => typed_attribute(
                    AttributeType::List(Box::new(AttributeType::String)), Computed,
                    "The repositories' names, as the registry lists them.")
            },
            ..Default::default()
        },
    }
}

// ----- Read -----

#[async_trait]
impl DataSource for RegistryRepositoriesDataSource {
    type State<'a> = RegistryRepositoriesState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(registry_repositories_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate_common(diags, TYPE_NAME, &config.registry_id, &config.search_name);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let registry_id = config.registry_id.as_ref_option()?.clone();
        let client = self.provider.client(diags)?;
        match client
            .get_repositories(&registry_id, config.search_name.as_deref_option())
            .await
        {
            Ok(answer) => Some(RegistryRepositoriesState {
                repositories: string_list(answer.repositories),
                ..config
            }),
            Err(error) => {
                diagnostics::api_error(diags, "Could not list the registry's repositories", &error);
                None
            }
        }
    }
}
