//! Finding registries that already exist, through the real Terraform CLI: the `runai_registries` and
//! `runai_registry` data sources, `terraform import` by name, and a child module that looks a
//! registry up by name to list the repositories and tags of a real OCI registry.
//!
//! The registries are made through the API client, as someone outside this Terraform configuration
//! would make them, so that the lookups find what they did not create.

use runai_emulator::oci_fixture::OciRegistry;
use runai_emulator::RunningEmulator;
use terraform_provider_runai::client::{Registry, RegistryCreationRequest, Scope};

use crate::support::terraform::Workdir;
use crate::support::{client, creation_request, emulator, runtime};

/// The password `creation_request` gives every registry; no data source may ever show it.
const PASSWORD: &str = "registry-password-for-tests";

/// A creation request for a registry of `project_id`'s project.
fn project_request(name: &str, project_id: i64) -> RegistryCreationRequest {
    let mut request = creation_request(name);
    request.meta.scope = Scope::Project;
    request.meta.project_id = Some(project_id);
    request
}

/// Creates registries through the API, as if someone outside Terraform had.
fn create(emulator: &RunningEmulator, requests: &[RegistryCreationRequest]) -> Vec<Registry> {
    let client = client(emulator);
    let runtime = runtime();
    requests
        .iter()
        .map(|request| {
            runtime
                .block_on(client.create_registry(request))
                .expect("the registry is created")
        })
        .collect()
}

/// A working directory for `emulator` in which the registries' password counts as a secret.
fn workdir(emulator: &RunningEmulator) -> Workdir {
    let mut workdir = Workdir::new(emulator);
    workdir.add_secret(PASSWORD);
    workdir
}

/// The data sources of the root module in `terraform show -json`, by address.
fn data_source(state: &serde_json::Value, address: &str) -> serde_json::Value {
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|resources| {
            resources
                .iter()
                .find(|resource| resource["address"] == address)
        })
        .map(|resource| resource["values"].clone())
        .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))
}

/// Asserts that a plan fails and that its output holds every one of `expected`.
fn assert_plan_fails_with(workdir: &Workdir, expected: &[&str]) {
    let outcome = workdir.plan();
    let output = outcome.output();
    assert_eq!(outcome.code, 1, "the plan should fail:\n{output}");
    for text in expected {
        assert!(output.contains(text), "{text:?} is not in:\n{output}");
    }
}

#[test]
fn terraform_registries_data_source_lists_every_registry_without_its_password() {
    let emulator = emulator();
    let mut with_types = creation_request("beta");
    with_types.meta.workload_supported_types = Some(Default::default());
    let mut training = creation_request("gamma");
    training.meta.workload_supported_types =
        Some(terraform_provider_runai::client::WorkloadSupportedTypes {
            training: Some(true),
            dist_framework: Some(terraform_provider_runai::client::DistFramework::PyTorch),
            ..Default::default()
        });
    let created = create(
        &emulator,
        &[
            creation_request("alpha"),
            project_request("alpha", 42),
            with_types,
            training,
        ],
    );
    let workdir = workdir(&emulator);
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registries" "all" {}

data "runai_registries" "alpha" {
  name = "alpha"
}

data "runai_registries" "none" {
  name = "alp"
}

output "all_names" { value = sort(data.runai_registries.all.registries[*].name) }
output "alpha_scopes" { value = sort(data.runai_registries.alpha.registries[*].scope) }
output "none" { value = length(data.runai_registries.none.registries) }
"#,
    );
    let applied = workdir.apply();
    assert!(!applied.output().contains(PASSWORD));
    let outputs = workdir.outputs();
    assert_eq!(
        outputs["all_names"]["value"],
        serde_json::json!(["alpha", "alpha", "beta", "gamma"])
    );
    assert_eq!(
        outputs["alpha_scopes"]["value"],
        serde_json::json!(["project", "tenant"])
    );
    assert_eq!(outputs["none"]["value"], 0);

    let shown = workdir.success(&["show", "-json"]);
    assert!(
        !shown.stdout.contains(PASSWORD),
        "a data source holds the password:\n{}",
        shown.stdout
    );
    let state: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let all = data_source(&state, "data.runai_registries.all");
    let entries = all["registries"].as_array().unwrap();
    let entry = |id: &str| {
        entries
            .iter()
            .find(|entry| entry["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed: {all}"))
    };
    let project = entry(&created[1].meta.id);
    assert_eq!(project["name"], "alpha");
    assert_eq!(project["scope"], "project");
    assert_eq!(project["project_id"], 42);
    assert_eq!(project["project_name"], "project-42");
    assert_eq!(project["url"], "https://registry.example.com");
    assert_eq!(project["user"], "robot");
    assert_eq!(project["credential_kind"], "password");
    assert_eq!(project["kind"], "registry");
    assert_eq!(project["description"], "made by a test");
    assert_eq!(project["created_at"], created[1].meta.created_at.as_str());
    assert!(project.get("password").is_none(), "{project}");
    assert!(project["workload_supported_types"].is_null(), "{project}");
    let empty_types = entry(&created[2].meta.id);
    assert!(
        empty_types["workload_supported_types"].is_null(),
        "{empty_types}"
    );
    let training = entry(&created[3].meta.id);
    assert_eq!(
        training["workload_supported_types"],
        serde_json::json!({"training": true, "dist_framework": "PyTorch", "inference": null,
                           "workspace": null, "distributed": null})
    );
    workdir.assert_no_changes();
}

#[test]
fn terraform_registry_data_source_looks_up_by_id_or_by_name_and_explains_none_and_several() {
    let emulator = emulator();
    let created = create(
        &emulator,
        &[
            creation_request("solo"),
            creation_request("twin"),
            project_request("twin", 42),
            project_request("twin", 43),
        ],
    );
    let (solo, twin_tenant, twin_42, twin_43) =
        (&created[0], &created[1], &created[2], &created[3]);
    let workdir = workdir(&emulator);
    workdir.write_config(&format!(
        r#"
provider "runai" {{}}

data "runai_registry" "by_id" {{
  id = "{solo_id}"
}}

data "runai_registry" "by_name" {{
  name = "solo"
}}

data "runai_registry" "by_scope" {{
  name  = "twin"
  scope = "tenant"
}}

data "runai_registry" "by_project" {{
  name       = "twin"
  project_id = 43
}}

output "by_id_name" {{ value = data.runai_registry.by_id.name }}
output "by_name_id" {{ value = data.runai_registry.by_name.id }}
output "by_scope_id" {{ value = data.runai_registry.by_scope.id }}
output "by_project_id" {{ value = data.runai_registry.by_project.id }}
output "by_project_scope" {{ value = data.runai_registry.by_project.scope }}
"#,
        solo_id = solo.meta.id
    ));
    workdir.apply();
    let outputs = workdir.outputs();
    assert_eq!(outputs["by_id_name"]["value"], "solo");
    assert_eq!(outputs["by_name_id"]["value"], solo.meta.id.as_str());
    assert_eq!(
        outputs["by_scope_id"]["value"],
        twin_tenant.meta.id.as_str()
    );
    assert_eq!(outputs["by_project_id"]["value"], twin_43.meta.id.as_str());
    assert_eq!(outputs["by_project_scope"]["value"], "project");
    let shown = workdir.success(&["show", "-json"]);
    assert!(!shown.stdout.contains(PASSWORD), "{}", shown.stdout);
    let state: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let by_name = data_source(&state, "data.runai_registry.by_name");
    assert_eq!(by_name["url"], "https://registry.example.com");
    assert_eq!(by_name["user"], "robot");
    assert_eq!(by_name["scope"], "tenant");
    assert_eq!(by_name["updated_by"], solo.meta.updated_by.as_str());
    assert!(by_name.get("password").is_none(), "{by_name}");
    workdir.assert_no_changes();

    // Three registries share the name: the error lists them and asks for scope.
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry" "twin" {
  name = "twin"
}
"#,
    );
    assert_plan_fails_with(
        &workdir,
        &[
            "Several registries match",
            "3 registries are named \"twin\"",
            &format!("{} (scope tenant)", twin_tenant.meta.id),
            &format!("{} (scope project, project_id 42)", twin_42.meta.id),
            &format!("{} (scope project, project_id 43)", twin_43.meta.id),
            "Add scope to the data source",
        ],
    );

    // Within project scope two remain, and project_id is what tells them apart.
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry" "twin" {
  name  = "twin"
  scope = "project"
}
"#,
    );
    assert_plan_fails_with(
        &workdir,
        &[
            "2 registries are named \"twin\" in project scope",
            "Add project_id to the data source",
        ],
    );

    // None at all.
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry" "missing" {
  name  = "solo"
  scope = "project"
}
"#,
    );
    assert_plan_fails_with(
        &workdir,
        &[
            "No such registry",
            "No registry is named \"solo\" in project scope",
        ],
    );
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry" "missing" {
  id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
}
"#,
    );
    assert_plan_fails_with(
        &workdir,
        &[
            "No such registry",
            "No registry has the id 0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f",
        ],
    );

    // Neither id nor name, and both: plan-time errors that name the attributes.
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry" "nothing" {}
"#,
    );
    assert_plan_fails_with(&workdir, &["Set either id or name"]);
    workdir.write_config(&format!(
        r#"
provider "runai" {{}}

data "runai_registry" "both" {{
  id    = "{}"
  name  = "solo"
  scope = "tenant"
}}
"#,
        solo.meta.id
    ));
    assert_plan_fails_with(
        &workdir,
        &[
            "Set either id or name, not both",
            "scope only narrows a lookup by name",
        ],
    );
}

/// A `runai_registry` resource that matches what `creation_request` made.
fn resource_config(name: &str, scope_lines: &str) -> String {
    format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "example" {{
  name        = "{name}"
  description = "made by a test"
  {scope_lines}
  url         = "https://registry.example.com"
  user        = "robot"
  password    = "{PASSWORD}"
}}
"#
    )
}

#[test]
fn terraform_import_by_name_and_by_scope_and_name() {
    let emulator = emulator();
    let created = create(
        &emulator,
        &[
            creation_request("unique"),
            creation_request("twin"),
            project_request("twin", 42),
        ],
    );
    let (unique, twin_tenant, twin_project) = (&created[0], &created[1], &created[2]);

    // name=<name>, unique across scopes.
    let by_name = workdir(&emulator);
    by_name.write_config(&resource_config("unique", r#"scope = "tenant""#));
    let imported = by_name.success(&["import", "runai_registry.example", "name=unique"]);
    assert!(
        imported.stdout.contains("Import successful"),
        "{}",
        imported.stdout
    );
    let state = by_name.resource("runai_registry.example");
    assert_eq!(state["id"], unique.meta.id.as_str());
    assert_eq!(state["scope"], "tenant");
    by_name.assert_no_changes();

    // <scope>/<name>: unique within the scope even though the name is used in another one.
    let by_scope = workdir(&emulator);
    by_scope.write_config(&resource_config(
        "twin",
        "scope      = \"project\"\n  project_id = 42",
    ));
    by_scope.success(&["import", "runai_registry.example", "project/twin"]);
    let state = by_scope.resource("runai_registry.example");
    assert_eq!(state["id"], twin_project.meta.id.as_str());
    assert_eq!(state["project_id"], 42);
    by_scope.assert_no_changes();

    let tenant = workdir(&emulator);
    tenant.write_config(&resource_config("twin", r#"scope = "tenant""#));
    tenant.success(&["import", "runai_registry.example", "tenant/twin"]);
    assert_eq!(
        tenant.resource("runai_registry.example")["id"],
        twin_tenant.meta.id.as_str()
    );
    tenant.assert_no_changes();

    // name=twin is ambiguous: the error lists both with the command that imports each by id, and
    // nothing is imported.
    let ambiguous = workdir(&emulator);
    ambiguous.write_config(&resource_config("twin", r#"scope = "tenant""#));
    let failed = ambiguous.run(&["import", "runai_registry.example", "name=twin"]);
    let output = failed.output();
    assert_eq!(failed.code, 1, "{output}");
    for expected in [
        "The import id matches several registries",
        "2 registries are named \"twin\"",
        &format!("{} (scope tenant)", twin_tenant.meta.id),
        &format!("{} (scope project, project_id 42)", twin_project.meta.id),
        &format!(
            "terraform import runai_registry.<resource name> {}",
            twin_tenant.meta.id
        ),
        &format!(
            "terraform import runai_registry.<resource name> {}",
            twin_project.meta.id
        ),
        "or: terraform import runai_registry.<resource name> tenant/twin",
        "or: terraform import runai_registry.<resource name> project/twin",
    ] {
        assert!(
            output.contains(expected),
            "{expected:?} is not in:\n{output}"
        );
    }
    assert!(!ambiguous.path().join("terraform.tfstate").exists());

    // A scope with no such name, and a malformed id.
    let failed = ambiguous.run(&["import", "runai_registry.example", "cluster/twin"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .output()
            .contains("No registry is named \"twin\" in cluster scope"),
        "{}",
        failed.output()
    );
    let failed = ambiguous.run(&["import", "runai_registry.example", "twin"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed.output().contains("use name=twin"),
        "{}",
        failed.output()
    );
    assert_eq!(emulator.emulator.registries().len(), 3);
}

/// The child module: looks a registry up by name and lists its repositories and one repository's tags.
const LOOKUP_MODULE: &str = r#"
terraform {
  required_providers {
    runai = { source = "runai/runai" }
  }
}

variable "registry_name" {
  type = string
}

variable "repository" {
  type = string
}

data "runai_registry" "this" {
  name = var.registry_name
}

data "runai_registry_repositories" "all" {
  registry_id = data.runai_registry.this.id
}

data "runai_registry_tags" "repository" {
  registry_id = data.runai_registry.this.id
  repository  = var.repository
}

output "registry_id" {
  value = data.runai_registry.this.id
}

output "repositories" {
  value = data.runai_registry_repositories.all.repositories
}

output "tags" {
  value = data.runai_registry_tags.repository.tags
}
"#;

#[test]
fn terraform_module_looks_a_registry_up_by_name_and_lists_its_repositories_and_tags() {
    let oci = OciRegistry::start().expect("docker-registry starts");
    oci.push_image("team/pytorch", &["2.3", "2.4"]).unwrap();
    oci.push_image("tools/jupyter", &["4.1"]).unwrap();

    let emulator = emulator();
    let mut request = creation_request("shared-oci");
    request.spec.url = oci.url.clone();
    request.spec.user = oci.user.clone();
    request.spec.password = oci.password.clone();
    let created = create(&emulator, &[request]);

    let mut workdir = workdir(&emulator);
    workdir.add_secret(&oci.password);
    let module_directory = workdir.path().join("modules/lookup");
    std::fs::create_dir_all(&module_directory).unwrap();
    std::fs::write(module_directory.join("main.tf"), LOOKUP_MODULE).unwrap();
    workdir.write_config(
        r#"
provider "runai" {}

module "lookup" {
  source        = "./modules/lookup"
  registry_name = "shared-oci"
  repository    = "team/pytorch"
}

output "registry_id" { value = module.lookup.registry_id }
output "repositories" { value = sort(module.lookup.repositories) }
output "tags" { value = sort(module.lookup.tags) }
"#,
    );
    // `terraform init` would look the dev-overridden provider up in a registry this machine cannot
    // reach; `terraform get` installs only the modules, which is all a local module needs.
    workdir.success(&["get"]);
    workdir.apply();
    let outputs = workdir.outputs();
    assert_eq!(outputs["registry_id"]["value"], created[0].meta.id.as_str());
    assert_eq!(
        outputs["repositories"]["value"],
        serde_json::json!(["team/pytorch", "tools/jupyter"])
    );
    assert_eq!(outputs["tags"]["value"], serde_json::json!(["2.3", "2.4"]));
    let shown = workdir.success(&["show", "-json"]);
    assert!(!shown.stdout.contains(&oci.password), "{}", shown.stdout);
    workdir.assert_no_changes();
}
