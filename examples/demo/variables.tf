# The OCI registry the demo registers; `cargo xtask demo` sets these through TF_VAR_registry_*.

variable "registry_url" {
  description = "The address of the OCI registry, such as http://127.0.0.1:5000."
  type        = string
}

variable "registry_user" {
  description = "The user name for the registry."
  type        = string
}

variable "registry_password" {
  description = "The password for the registry."
  type        = string
  sensitive   = true
}
