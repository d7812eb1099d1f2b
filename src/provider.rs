//! The `runai` provider: its schema, its configuration, and the registration of its types.
//!
//! Terraform asks for the resources and data sources (`get_resources`) before it configures the
//! provider, so each type holds an `Arc<ProviderData>` that `configure` fills later. Using the API
//! before that is a diagnostic, never a panic.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::{map, Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::client::ApiClient;
use crate::config::{self, ProviderConfig, Resolved};
use crate::data_sources::{
    RegistriesDataSource, RegistryDataSource, RegistryRepositoriesDataSource,
    RegistryTagsDataSource,
};
use crate::diagnostics;
use crate::resources::RegistryResource;

/// The provider's name, the prefix of every type: `runai_registry`, `runai_registry_tags`, …
pub const PROVIDER_NAME: &str = "runai";

/// What `configure` produced, shared with every resource and data source.
#[derive(Debug, Default)]
pub struct ProviderData {
    client: RwLock<ClientSlot>,
}

#[derive(Debug, Default)]
enum ClientSlot {
    /// `configure` has not run yet.
    #[default]
    NotConfigured,
    /// The configuration depends on a value not known until apply.
    Unknown(&'static str),
    /// The configuration was invalid; `configure` already reported why.
    Invalid,
    Ready(Arc<ApiClient>),
}

impl ProviderData {
    /// The API client, or an error diagnostic that says why there is none.
    pub fn client(&self, diags: &mut Diagnostics) -> Option<Arc<ApiClient>> {
        // The lock is only held to clone an `Arc`, never across an await.
        let slot = self
            .client
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        match &*slot {
            ClientSlot::Ready(client) => return Some(client.clone()),
            ClientSlot::NotConfigured => diagnostics::error_root(
                diags,
                "The runai provider is not configured",
                "Terraform used a runai resource before configuring the provider. This is a bug in \
                 Terraform or the provider; please report it.",
            ),
            ClientSlot::Unknown(attribute) => diagnostics::error_root(
                diags,
                "The runai provider's configuration is not known yet",
                format!(
                    "The provider's {attribute} depends on a value that is only known after apply. \
                     Apply the resources it depends on first (terraform apply -target=...)."
                ),
            ),
            ClientSlot::Invalid => diagnostics::error_root(
                diags,
                "The runai provider's configuration is invalid",
                "See the errors about the provider block above.",
            ),
        }
        None
    }

    fn set(&self, slot: ClientSlot) {
        *self
            .client
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = slot;
    }
}

/// The `runai` provider.
#[derive(Debug, Default)]
pub struct RunaiProvider {
    data: Arc<ProviderData>,
}

impl RunaiProvider {
    pub fn new() -> RunaiProvider {
        RunaiProvider::default()
    }
}

/// Builds a string attribute; shared by every schema of the provider.
pub fn string_attribute(
    constraint: AttributeConstraint,
    sensitive: bool,
    description: &str,
) -> Attribute {
    Attribute {
        attr_type: AttributeType::String,
        description: Description::markdown(description),
        constraint,
        sensitive,
        deprecated: false,
    }
}

/// Builds an attribute of any type; shared by every schema of the provider.
pub fn typed_attribute(
    attr_type: AttributeType,
    constraint: AttributeConstraint,
    description: &str,
) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(description),
        constraint,
        sensitive: false,
        deprecated: false,
    }
}

#[async_trait]
impl Provider for RunaiProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = tf_provider::value::ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Optional;
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "The Run:ai provider manages registry assets of an NVIDIA Run:ai control plane \
                     (API 2.19 and later).",
                ),
                attributes: map! {
                    "base_url" => string_attribute(Optional, false,
                        "The control plane's URL, such as `https://<tenant>.run.ai`. Environment: `RUNAI_BASE_URL`."),
                    "token" => string_attribute(Optional, true,
                        "A bearer token used as is. Use either `token` or `client_id` with `client_secret`. Environment: `RUNAI_TOKEN`."),
                    "client_id" => string_attribute(Optional, false,
                        "The id of a Run:ai application, exchanged with `client_secret` for short-lived tokens. Environment: `RUNAI_CLIENT_ID`."),
                    "client_secret" => string_attribute(Optional, true,
                        "The secret of the Run:ai application named by `client_id`. Environment: `RUNAI_CLIENT_SECRET`."),
                    "request_timeout_seconds" => typed_attribute(AttributeType::Number, Optional,
                        "The timeout of a single API request, in seconds. Defaults to 30."),
                    "max_retries" => typed_attribute(AttributeType::Number, Optional,
                        "How many times a call is retried after a 429, 502, 503, 504 or a connection failure. Defaults to 10."),
                    "retry_timeout_seconds" => typed_attribute(AttributeType::Number, Optional,
                        "How long a call keeps retrying, in seconds: no retry starts after this time. Defaults to 120."),
                    "ca_certificate" => string_attribute(Optional, false,
                        "PEM certificates to trust besides the operating system's and Mozilla's root certificates, for a control plane behind a private CA. Use `file(\"ca.pem\")` to read a file."),
                    "insecure_skip_tls_verify" => typed_attribute(AttributeType::Bool, Optional,
                        "Accept any TLS certificate. Dangerous: anyone on the network path can read the credentials. Defaults to false."),
                    "allow_insecure_http" => typed_attribute(AttributeType::Bool, Optional,
                        "Allow a plain `http://` base URL to a host that is not this machine, sending credentials unencrypted. Defaults to false.")
                },
                ..Default::default()
            },
        })
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        // Whatever happens, `Some(())` is returned: Terraform turns `None` into a generic internal
        // error, while the diagnostics below say what is actually wrong.
        let environment = |name: &str| std::env::var(name).ok();
        match config::resolve(&config, &environment) {
            Resolved::Ready { config, warnings } => {
                for warning in warnings {
                    diagnostics::warning(
                        diags,
                        warning.summary,
                        warning.detail,
                        diagnostics::attribute(warning.attribute),
                    );
                }
                match ApiClient::new(*config) {
                    Ok(client) => self.data.set(ClientSlot::Ready(Arc::new(client))),
                    Err(error) => {
                        diagnostics::error_root(
                            diags,
                            "Invalid runai provider configuration",
                            error.to_string(),
                        );
                        self.data.set(ClientSlot::Invalid);
                    }
                }
            }
            Resolved::Unknown { attribute } => self.data.set(ClientSlot::Unknown(attribute)),
            Resolved::Invalid(problems) => {
                for problem in problems {
                    diagnostics::error(
                        diags,
                        problem.summary,
                        problem.detail,
                        diagnostics::attribute(problem.attribute),
                    );
                }
                self.data.set(ClientSlot::Invalid);
            }
        }
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        Some(map! {
            "registry" => RegistryResource::new(self.data.clone())
        })
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(map! {
            "registries" => RegistriesDataSource::new(self.data.clone()),
            "registry" => RegistryDataSource::new(self.data.clone()),
            "registry_repositories" => RegistryRepositoriesDataSource::new(self.data.clone()),
            "registry_tags" => RegistryTagsDataSource::new(self.data.clone())
        })
    }
}
