# Every tag of one repository of the OCI registry behind a registry asset, read live through Run:ai.
data "runai_registry_tags" "pytorch" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
  repository  = "team/pytorch"
}

# Only the tags that contain "2.4".
data "runai_registry_tags" "pytorch_2_4" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
  repository  = "team/pytorch"
  search_name = "2.4"
}

output "pytorch_tags" {
  value = data.runai_registry_tags.pytorch.tags
}
