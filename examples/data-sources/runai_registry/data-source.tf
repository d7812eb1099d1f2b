# Look a registry up by its id.
data "runai_registry" "by_id" {
  id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
}

# Look a registry up by its name. When the name is used in several scopes, add scope (and
# cluster_id, department_id or project_id) to choose one.
data "runai_registry" "by_name" {
  name       = "team-registry"
  scope      = "project"
  project_id = 42
}

# Use what was found, for example to list the registry's repositories.
data "runai_registry_repositories" "team" {
  registry_id = data.runai_registry.by_name.id
}

output "team_registry_url" {
  value = data.runai_registry.by_name.url
}
