//! `runai_registry_repositories` and `runai_registry_tags` through the real Terraform CLI, against
//! the emulator backed by a real `docker-registry` holding images this test pushes.

use runai_emulator::oci_fixture::OciRegistry;

use crate::support::emulator;
use crate::support::terraform::Workdir;

#[test]
fn terraform_data_sources_list_repositories_and_tags_of_a_real_registry() {
    let oci = OciRegistry::start().expect("docker-registry starts");
    oci.push_image("team/pytorch", &["2.3", "2.4", "nightly"])
        .unwrap();
    oci.push_image("team/tensorflow", &["latest"]).unwrap();
    oci.push_image("tools/jupyter", &["4.1"]).unwrap();

    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(&oci.password);
    workdir.set_env("TF_VAR_registry_password", &oci.password);
    workdir.write_config(&format!(
        r#"
provider "runai" {{}}

variable "registry_password" {{
  type      = string
  sensitive = true
}}

resource "runai_registry" "oci" {{
  name     = "oci"
  scope    = "tenant"
  url      = "{url}"
  user     = "{user}"
  password = var.registry_password
}}

data "runai_registry_repositories" "all" {{
  registry_id = runai_registry.oci.id
}}

data "runai_registry_repositories" "team" {{
  registry_id = runai_registry.oci.id
  search_name = "team/"
}}

data "runai_registry_tags" "pytorch" {{
  registry_id = runai_registry.oci.id
  repository  = "team/pytorch"
}}

data "runai_registry_tags" "pytorch_2" {{
  registry_id = runai_registry.oci.id
  repository  = "team/pytorch"
  search_name = "2."
}}

output "all" {{ value = data.runai_registry_repositories.all.repositories }}
output "team" {{ value = data.runai_registry_repositories.team.repositories }}
output "tags" {{ value = data.runai_registry_tags.pytorch.tags }}
output "tags_2" {{ value = data.runai_registry_tags.pytorch_2.tags }}
"#,
        url = oci.url,
        user = oci.user
    ));
    workdir.apply();
    let outputs = workdir.outputs();
    let list = |name: &str| -> Vec<String> {
        let mut items: Vec<String> = outputs[name]["value"]
            .as_array()
            .unwrap_or_else(|| panic!("output {name} is a list: {outputs}"))
            .iter()
            .map(|item| item.as_str().unwrap().to_owned())
            .collect();
        items.sort();
        items
    };
    assert_eq!(
        list("all"),
        ["team/pytorch", "team/tensorflow", "tools/jupyter"]
    );
    assert_eq!(list("team"), ["team/pytorch", "team/tensorflow"]);
    assert_eq!(list("tags"), ["2.3", "2.4", "nightly"]);
    assert_eq!(list("tags_2"), ["2.3", "2.4"]);
    workdir.assert_no_changes();
    workdir.success(&["destroy", "-auto-approve"]);
}

#[test]
fn terraform_data_source_errors_name_the_attribute_or_the_registry() {
    let emulator = emulator();
    let workdir = Workdir::new(&emulator);
    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry_repositories" "bad" {
  registry_id = "not-a-uuid"
}
"#,
    );
    let outcome = workdir.plan();
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.output().contains("registry_id must be a UUID"),
        "{}",
        outcome.output()
    );

    workdir.write_config(
        r#"
provider "runai" {}

data "runai_registry_tags" "missing" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
  repository  = "team/app"
}
"#,
    );
    let outcome = workdir.plan();
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .output()
            .contains("Could not list the repository's tags"),
        "{}",
        outcome.output()
    );
    assert!(outcome.output().contains("404"), "{}", outcome.output());
}
