//! The provider's data sources, one file per Terraform type.

pub mod registries;
pub mod registry;
pub mod registry_details;
pub mod registry_repositories;
pub mod registry_tags;

pub use registries::RegistriesDataSource;
pub use registry::RegistryDataSource;
pub use registry_repositories::RegistryRepositoriesDataSource;
pub use registry_tags::RegistryTagsDataSource;

use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::diagnostics;
use crate::validation;

/// Checks the arguments every registry data source shares: a UUID `registry_id` and a non-empty
/// `search_name` when set. Unknown values are checked when they become known.
fn validate_common(
    diags: &mut Diagnostics,
    type_name: &str,
    registry_id: &Value<String>,
    search_name: &Value<String>,
) {
    if let Value::Value(id) = registry_id {
        if let Err(message) = validation::uuid(id) {
            diagnostics::error(
                diags,
                format!("Invalid {type_name} argument"),
                format!("registry_id {message}."),
                diagnostics::attribute("registry_id"),
            );
        }
    }
    if let Value::Value(search) = search_name {
        if search.is_empty() {
            diagnostics::error(
                diags,
                format!("Invalid {type_name} argument"),
                "search_name must not be empty; leave it out to list everything.",
                diagnostics::attribute("search_name"),
            );
        }
    }
}

/// The strings of a list as Terraform values.
fn string_list(items: Vec<String>) -> Value<Vec<Value<String>>> {
    Value::Value(items.into_iter().map(Value::Value).collect())
}
