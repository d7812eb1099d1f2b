//! The whole life of a `runai_registry` through the real Terraform CLI: create, an empty second plan,
//! an in-place update, a replacement on a scope change, import, an out-of-band delete and re-create,
//! and destroy. The emulator's own view is checked at each step, not just Terraform's.

use crate::support::terraform::Workdir;
use crate::support::{emulator, emulator_with};
use runai_emulator::EmulatorConfig;

const PASSWORD: &str = "lifecycle-registry-password-7f3a";

fn registry_config(description: &str, scope_lines: &str) -> String {
    format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "example" {{
  name        = "lifecycle"
  description = "{description}"
  {scope_lines}
  url         = "https://registry.example.com"
  user        = "robot"
  password    = "{PASSWORD}"
}}
"#
    )
}

#[test]
fn terraform_create_update_replace_import_drift_and_destroy() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);

    // Create, then a second plan finds nothing to do.
    workdir.write_config(&registry_config("first", r#"scope = "tenant""#));
    let created = workdir.apply();
    assert!(created.stdout.contains("1 added"), "{}", created.stdout);
    let registries = emulator.emulator.registries();
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0]["spec"]["password"], PASSWORD);
    let first_id = registries[0]["meta"]["id"].as_str().unwrap().to_owned();
    let state = workdir.resource("runai_registry.example");
    assert_eq!(state["id"], first_id.as_str());
    assert_eq!(state["kind"], "registry");
    assert_eq!(state["credential_kind"], "password");
    assert_eq!(state["created_by"], "runai-emulator");
    workdir.assert_no_changes();

    // A new description is an in-place update with the same id.
    workdir.write_config(&registry_config("second", r#"scope = "tenant""#));
    let plan = workdir.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    let updated = workdir.apply();
    assert!(updated.stdout.contains("1 changed"), "{}", updated.stdout);
    let registries = emulator.emulator.registries();
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0]["meta"]["id"], first_id.as_str());
    assert_eq!(registries[0]["meta"]["description"], "second");
    workdir.assert_no_changes();

    // Moving to another scope replaces the registry: the old one is gone, one new one exists.
    let project_scope = "scope      = \"project\"\n  project_id = 42";
    workdir.write_config(&registry_config("second", project_scope));
    let plan = workdir.plan();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    workdir.apply();
    let registries = emulator.emulator.registries();
    assert_eq!(
        registries.len(),
        1,
        "exactly one registry after the replacement"
    );
    assert_ne!(registries[0]["meta"]["id"], first_id.as_str());
    assert_eq!(registries[0]["meta"]["scope"], "project");
    assert_eq!(registries[0]["meta"]["projectId"], 42);
    let second_id = registries[0]["meta"]["id"].as_str().unwrap().to_owned();
    let state = workdir.resource("runai_registry.example");
    assert_eq!(state["project_name"], "project-42");
    workdir.assert_no_changes();

    // Importing into a fresh working directory reproduces the same state, and the plan is empty
    // because this emulator returns the password as sent.
    let mut imported = Workdir::new(&emulator);
    imported.add_secret(PASSWORD);
    imported.write_config(&registry_config("second", project_scope));
    imported.success(&["import", "runai_registry.example", &second_id]);
    let original = workdir.resource("runai_registry.example");
    let copy = imported.resource("runai_registry.example");
    for attribute in [
        "id",
        "name",
        "description",
        "scope",
        "project_id",
        "url",
        "user",
        "credential_kind",
        "kind",
        "tenant_id",
        "project_name",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    ] {
        assert_eq!(
            original[attribute], copy[attribute],
            "{attribute} differs after import"
        );
    }
    imported.assert_no_changes();

    // Deleted outside Terraform: the refresh drops it and the plan offers to create it again.
    assert!(emulator.emulator.delete_out_of_band(&second_id));
    let plan = workdir.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    workdir.apply();
    assert_eq!(emulator.emulator.registries().len(), 1);
    workdir.success(&["refresh"]);
    workdir.assert_no_changes();

    // Destroy leaves nothing behind.
    let destroyed = workdir.success(&["destroy", "-auto-approve"]);
    assert!(
        destroyed.stdout.contains("1 destroyed"),
        "{}",
        destroyed.stdout
    );
    assert!(emulator.emulator.registries().is_empty());
}

#[test]
fn terraform_password_is_sensitive_in_plans_and_the_schema() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    workdir.write_config(&registry_config("sensitive", r#"scope = "tenant""#));

    let plan = workdir.success(&["plan", "-out=saved.tfplan", "-input=false"]);
    assert!(plan.stdout.contains("(sensitive value)"), "{}", plan.stdout);
    let shown = workdir.success(&["show", "-json", "saved.tfplan"]);
    let plan: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let change = &plan["resource_changes"][0]["change"];
    assert_eq!(change["after_sensitive"]["password"], true, "{change}");

    let schema = workdir.success(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
    let provider = schema["provider_schemas"]
        .as_object()
        .and_then(|providers| providers.values().next())
        .expect("one provider")
        .clone();
    let attributes = &provider["resource_schemas"]["runai_registry"]["block"]["attributes"];
    assert_eq!(attributes["password"]["sensitive"], true);
    assert_eq!(
        provider["provider"]["block"]["attributes"]["client_secret"]["sensitive"],
        true
    );
    assert_eq!(
        provider["provider"]["block"]["attributes"]["token"]["sensitive"],
        true
    );
}

#[test]
fn terraform_unknown_values_from_another_resource_plan_and_apply() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    workdir.write_config(&format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "first" {{
  name     = "first"
  scope    = "tenant"
  url      = "https://registry.example.com"
  user     = "robot"
  password = "{PASSWORD}"
}}

resource "runai_registry" "second" {{
  name        = "second-${{runai_registry.first.tenant_id}}"
  description = "mirror of ${{runai_registry.first.id}}"
  scope       = "tenant"
  url         = "https://mirror.example.com"
  user        = runai_registry.first.created_by
  password    = "{PASSWORD}"
}}
"#
    ));
    let plan = workdir.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(
        plan.stdout.contains("(known after apply)"),
        "{}",
        plan.stdout
    );
    workdir.apply();
    let second = workdir.resource("runai_registry.second");
    let first = workdir.resource("runai_registry.first");
    assert_eq!(
        second["description"],
        format!("mirror of {}", first["id"].as_str().unwrap())
    );
    assert_eq!(second["user"], "runai-emulator");
    workdir.assert_no_changes();
    workdir.success(&["destroy", "-auto-approve"]);
    assert!(emulator.emulator.registries().is_empty());
}

#[test]
fn terraform_conflict_explains_how_to_import() {
    let emulator = emulator_with(EmulatorConfig::default());
    let client = crate::support::client(&emulator);
    let existing = crate::support::runtime()
        .block_on(client.create_registry(&crate::support::creation_request("lifecycle")))
        .expect("the first registry is created");
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    workdir.write_config(&registry_config("dup", r#"scope = "tenant""#));
    let failed = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(failed.code, 1);
    let output = failed.output();
    assert!(output.contains("already exists"), "{output}");
    assert!(output.contains("terraform import"), "{output}");
    assert!(output.contains(&existing.meta.id), "{output}");
    assert_eq!(
        emulator.emulator.registries().len(),
        1,
        "no duplicate was made"
    );
    // Nothing half-written: the state holds no registry.
    let state = workdir.state();
    assert!(state["values"].is_null() || state["values"]["root_module"]["resources"].is_null());
}

#[test]
fn terraform_removing_a_configured_scope_id_replaces_the_registry() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    let with_department =
        "scope         = \"project\"\n  project_id    = 7\n  department_id = \"12\"";
    workdir.write_config(&registry_config("ids", with_department));
    workdir.apply();
    let first_id = workdir.resource("runai_registry.example")["id"].clone();
    workdir.assert_no_changes();

    workdir.write_config(&registry_config(
        "ids",
        "scope      = \"project\"\n  project_id = 7",
    ));
    let plan = workdir.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    workdir.apply();
    let registries = emulator.emulator.registries();
    assert_eq!(registries.len(), 1);
    assert_ne!(registries[0]["meta"]["id"], first_id);
    assert!(registries[0]["meta"]["departmentId"].is_null());
    workdir.assert_no_changes();
}

#[test]
fn terraform_changing_workload_types_or_the_project_replaces_the_registry() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    let project = |id: u32, block: &str| {
        registry_config(
            "types",
            &format!("scope      = \"project\"\n  project_id = {id}\n{block}"),
        )
    };
    workdir.write_config(&project(7, ""));
    workdir.apply();
    for (step, config) in [
        (
            "a new workload_supported_types block",
            project(
                7,
                "  workload_supported_types {\n    training = true\n  }\n",
            ),
        ),
        (
            "another project_id",
            project(
                8,
                "  workload_supported_types {\n    training = true\n  }\n",
            ),
        ),
    ] {
        let before = emulator.emulator.registries()[0]["meta"]["id"].clone();
        workdir.write_config(&config);
        let plan = workdir.plan();
        assert!(
            plan.stdout.contains("must be replaced"),
            "{step}: {}",
            plan.stdout
        );
        workdir.apply();
        let registries = emulator.emulator.registries();
        assert_eq!(registries.len(), 1, "{step}");
        assert_ne!(registries[0]["meta"]["id"], before, "{step}");
        workdir.assert_no_changes();
    }
}
