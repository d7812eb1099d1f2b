# The demo that `cargo xtask demo` runs: it registers a real OCI registry as a Run:ai registry asset and
# reads the registry's repositories and one repository's tags back through the Run:ai API.
#
# `cargo xtask demo` provides everything from its environment: RUNAI_BASE_URL, RUNAI_CLIENT_ID and
# RUNAI_CLIENT_SECRET point the provider at the emulator, and TF_VAR_registry_* describe the registry.

terraform {
  required_providers {
    runai = {
      source = "runai/runai"
    }
  }
}

# The provider reads its connection settings from the RUNAI_* environment variables.
provider "runai" {}

resource "runai_registry" "demo" {
  name        = "demo-registry"
  description = "The OCI registry that cargo xtask demo started"
  scope       = "tenant"
  url         = var.registry_url
  user        = var.registry_user
  password    = var.registry_password
}

# Run:ai asks the registry itself, so these lists show what was pushed into it.
data "runai_registry_repositories" "all" {
  registry_id = runai_registry.demo.id
}

data "runai_registry_tags" "pytorch" {
  registry_id = runai_registry.demo.id
  repository  = "team/pytorch"
}
