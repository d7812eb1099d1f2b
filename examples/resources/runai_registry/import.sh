# A registry can be imported by its id,
terraform import runai_registry.example 0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f

# by a name that is unique across all scopes,
terraform import runai_registry.example name=my-registry

# or by a name within one scope: system, tenant, cluster, department or project.
terraform import runai_registry.example tenant/my-registry
terraform import runai_registry.example project/my-registry

# When the API masks or omits the password, the import cannot read it: the first terraform apply
# after the import then sets the configured password in place, without replacing the registry.
