# Every repository of the OCI registry behind a registry asset, read live through Run:ai. The id is
# usually a reference such as runai_registry.example.id.
data "runai_registry_repositories" "all" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
}

# Only the repositories whose name contains "pytorch".
data "runai_registry_repositories" "pytorch" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
  search_name = "pytorch"
}

output "repositories" {
  value = data.runai_registry_repositories.all.repositories
}
