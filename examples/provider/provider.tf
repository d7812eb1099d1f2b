# Select the Run:ai provider by its source address, once per configuration.
terraform {
  required_providers {
    runai = {
      source  = "runai/runai"
      version = "~> 0.1"
    }
  }
}

# Sign in with a Run:ai application. The secret is best left to the RUNAI_CLIENT_SECRET environment
# variable, so that it never appears in a file; RUNAI_BASE_URL and RUNAI_CLIENT_ID work the same way.
provider "runai" {
  base_url  = "https://mytenant.run.ai"
  client_id = "terraform"
}

# Or sign in with a bearer token obtained elsewhere, here through a sensitive variable.
provider "runai" {
  alias    = "with_token"
  base_url = "https://mytenant.run.ai"
  token    = var.runai_token
}

variable "runai_token" {
  description = "A Run:ai bearer token; set it with TF_VAR_runai_token."
  type        = string
  sensitive   = true
}
