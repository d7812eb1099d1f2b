# What the demo shows: the new registry asset and what Run:ai reads from the registry it points at.

output "registry_id" {
  description = "The id Run:ai gave the registry asset."
  value       = runai_registry.demo.id
}

output "registry_name" {
  description = "The name of the registry asset."
  value       = runai_registry.demo.name
}

output "repositories" {
  description = "Every repository in the registry."
  value       = data.runai_registry_repositories.all.repositories
}

output "pytorch_tags" {
  description = "The tags of team/pytorch."
  value       = data.runai_registry_tags.pytorch.tags
}
