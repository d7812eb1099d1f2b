//! `runai_registry_tags`: the tags of one repository of a registry asset's OCI registry.
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

const TYPE_NAME: &str = "runai_registry_tags";

// ----- State -----

/// The data source's arguments and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryTagsState {
    #[serde(default)]
    pub registry_id: Value<String>,
    #[serde(default)]
    pub repository: Value<String>,
    #[serde(default)]
    pub search_name: Value<String>,
    #[serde(default)]
    pub tags: Value<Vec<Value<String>>>,
}

/// The `runai_registry_tags` data source.
pub struct RegistryTagsDataSource {
    provider: Arc<ProviderData>,
}

impl RegistryTagsDataSource {
    pub fn new(provider: Arc<ProviderData>) -> RegistryTagsDataSource {
        RegistryTagsDataSource { provider }
    }
}

// ----- Schema -----

pub fn registry_tags_schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, Required};
    Schema {
        version: 1,
        block: Block {
            version: 1,
            description: Description::markdown(
                "Lists the tags of one repository of the OCI registry behind a registry asset, read \
                 live through the control plane with the asset's credentials.",
            ),
            attributes: map! {
                "registry_id" => string_attribute(Required, false,
                    "The id of the registry asset, such as `runai_registry.example.id`."),
                "repository" => string_attribute(Required, false,
                    "The repository's name, such as `team/pytorch`."),
                "search_name" => string_attribute(Optional, false,
                    "Only list tags that contain this text."),
                "tags" => typed_attribute(
                    AttributeType::List(Box::new(AttributeType::String)), Computed,
                    "The repository's tags, as the registry lists them.")
            },
            ..Default::default()
        },
    }
}

// ----- Read -----

#[async_trait]
impl DataSource for RegistryTagsDataSource {
    type State<'a> = RegistryTagsState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(registry_tags_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate_common(diags, TYPE_NAME, &config.registry_id, &config.search_name);
        if let Value::Value(repository) = &config.repository {
            if repository.trim().is_empty() {
                diagnostics::error(
                    diags,
                    format!("Invalid {TYPE_NAME} argument"),
                    "repository must not be empty: name a repository such as team/pytorch.",
                    diagnostics::attribute("repository"),
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
        let registry_id = config.registry_id.as_ref_option()?.clone();
        let repository = config.repository.as_ref_option()?.clone();
        let client = self.provider.client(diags)?;
        match client
            .get_repository_tags(
                &registry_id,
                &repository,
                config.search_name.as_deref_option(),
            )
            .await
        {
            Ok(answer) => Some(RegistryTagsState {
                tags: string_list(answer.tags),
                ..config
            }),
            Err(error) => {
                diagnostics::api_error(diags, "Could not list the repository's tags", &error);
                None
            }
        }
    }
}
