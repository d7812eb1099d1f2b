# Every registry asset the provider's credentials can see, in every scope.
data "runai_registries" "all" {}

# Only the registries named "team-registry": at most one per scope.
data "runai_registries" "team" {
  name = "team-registry"
}

output "registry_names" {
  value = data.runai_registries.all.registries[*].name
}

# The scope of each "team-registry", keyed by id. Passwords are never exposed by data sources.
output "team_registry_scopes" {
  value = { for registry in data.runai_registries.team.registries : registry.id => registry.scope }
}
