//! The provider's resources, one file per Terraform type.

pub mod registry;

pub use registry::RegistryResource;
