# A registry asset for the whole tenant: Run:ai lists this registry's repositories and tags for
# workloads, signing in with the user and password given here.
resource "runai_registry" "example" {
  name        = "team-registry"
  description = "The team's private images"
  scope       = "tenant"
  url         = "https://registry.example.com"
  user        = "robot"
  password    = var.registry_password
}

# A registry asset that only one project's training workloads may use.
resource "runai_registry" "project" {
  name       = "project-registry"
  scope      = "project"
  project_id = 42
  url        = "registry.example.com:5000"
  user       = "robot"
  password   = var.registry_password

  workload_supported_types {
    training       = true
    distributed    = true
    dist_framework = "PyTorch"
  }
}

variable "registry_password" {
  description = "The registry's password; set it with TF_VAR_registry_password to keep it out of files."
  type        = string
  sensitive   = true
}
