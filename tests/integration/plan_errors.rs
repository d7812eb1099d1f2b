//! Bad input fails at `terraform plan`, before any API call: each case is a configuration a user
//! could write, and the error must name the attribute at fault. The emulator's request counter
//! proves that nothing reached the API, and the harness proves that nothing panicked and no secret
//! or backtrace was printed.

use crate::support::emulator;
use crate::support::terraform::Workdir;

const PASSWORD: &str = "plan-error-password-3d1f";

/// A registry block with `lines` replacing or adding arguments to a valid tenant registry.
fn registry(arguments: &str, block: &str) -> String {
    let mut defaults = vec![
        ("name", "\"ok\""),
        ("scope", "\"tenant\""),
        ("url", "\"https://registry.example.com\""),
        ("user", "\"robot\""),
    ];
    let overrides: Vec<(String, String)> = arguments
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    defaults.retain(|(key, _)| !overrides.iter().any(|(name, _)| name == key));
    let mut body = String::new();
    for (key, value) in defaults {
        body.push_str(&format!("  {key} = {value}\n"));
    }
    for (key, value) in overrides {
        if value != "OMIT" {
            body.push_str(&format!("  {key} = {value}\n"));
        }
    }
    format!(
        "provider \"runai\" {{}}\n\nresource \"runai_registry\" \"bad\" {{\n{body}  password = \"{PASSWORD}\"\n{block}}}\n"
    )
}

/// One bad configuration and what its error must say.
struct Case {
    name: &'static str,
    config: String,
    /// Every one of these must appear in the error output.
    expected: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let case = |name, arguments: &str, block: &str, expected| Case {
        name,
        config: registry(arguments, block),
        expected,
    };
    let long_description = format!("description = \"{}\"", "d".repeat(251));
    vec![
        case("empty name", "name = \"\"", "", &["name must not be empty", "name = \"\""]),
        case("blank name", "name = \"   \"", "", &["name must not be empty"]),
        case("unknown scope", "scope = \"galaxy\"", "", &["scope must be one of", "galaxy"]),
        case("project scope without project_id", "scope = \"project\"", "", &["needs project_id"]),
        case("cluster scope without cluster_id", "scope = \"cluster\"", "", &["needs cluster_id"]),
        case("department scope without department_id", "scope = \"department\"", "", &["needs department_id"]),
        case("tenant scope with a project_id", "project_id = 7", "", &["project_id does not belong to scope \"tenant\""]),
        case("tenant scope with a cluster_id", "cluster_id = \"0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f\"", "", &["cluster_id does not belong to scope \"tenant\""]),
        case("cluster scope with a department_id", "scope = \"cluster\"\ncluster_id = \"0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f\"\ndepartment_id = \"3\"", "", &["department_id does not belong to scope \"cluster\""]),
        case("department scope with a project_id", "scope = \"department\"\ndepartment_id = \"3\"\nproject_id = 9", "", &["project_id does not belong to scope \"department\""]),
        case("invalid cluster UUID", "scope = \"cluster\"\ncluster_id = \"cluster-one\"", "", &["cluster_id must be a UUID", "cluster-one"]),
        case("negative project_id", "scope = \"project\"\nproject_id = -4", "", &["project_id must be a positive project id"]),
        case("project_id beyond int32", "scope = \"project\"\nproject_id = 3000000000", "", &["project_id must be a positive project id"]),
        case("description over 250 characters", &long_description, "", &["description must be at most 250 characters", "has 251"]),
        case("empty description", "description = \"\"", "", &["description must not be empty"]),
        case("malformed URL", "url = \"https://\"", "", &["url must be a registry address"]),
        case("URL with another scheme", "url = \"ftp://registry.example.com\"", "", &["url must be a registry address"]),
        case("URL with spaces", "url = \"registry example.com\"", "", &["url must be a registry address"]),
        case("empty user", "user = \"\"", "", &["user must not be empty"]),
        case("unknown credential_kind", "credential_kind = \"token\"", "", &["credential_kind must be \"password\""]),
        case("unknown dist_framework", "", "  workload_supported_types {\n    dist_framework = \"Horovod\"\n  }\n", &["dist_framework must be one of", "Horovod"]),
        case("missing url", "url = OMIT", "", &["\"url\" is required"]),
        case("name of the wrong type", "name = [\"a\"]", "", &["Incorrect attribute value type"]),
    ]
}

#[test]
fn terraform_plan_rejects_bad_registry_arguments_without_calling_the_api() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in &cases {
        workdir.write_config(&case.config);
        // An apply, not a plan: without the check the create would reach the API.
        let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
        assert_eq!(
            outcome.code,
            1,
            "{}: the plan must fail:\n{}",
            case.name,
            outcome.output()
        );
        let output = outcome.output();
        for expected in case.expected {
            assert!(
                output.contains(expected),
                "{}: expected {expected:?} in:\n{output}",
                case.name
            );
        }
    }
    assert_eq!(
        emulator.emulator.stats()["total_requests"],
        0,
        "a plan-time error must not reach the API"
    );
}

/// Provider-block mistakes: each names the attribute and the environment variable to set.
#[test]
fn terraform_plan_rejects_bad_provider_configuration() {
    let emulator = emulator();
    let resource = format!(
        "resource \"runai_registry\" \"ok\" {{\n  name = \"ok\"\n  scope = \"tenant\"\n  url = \"https://r.example.com\"\n  user = \"u\"\n  password = \"{PASSWORD}\"\n}}\n"
    );
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);

    // No credentials at all.
    workdir.remove_env("RUNAI_CLIENT_ID");
    workdir.remove_env("RUNAI_CLIENT_SECRET");
    workdir.write_config(&format!("provider \"runai\" {{}}\n{resource}"));
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.stdout.contains("Missing Run:ai credentials")
            || outcome.stderr.contains("Missing Run:ai credentials"),
        "{}",
        outcome.output()
    );
    assert!(outcome.output().contains("RUNAI_CLIENT_SECRET"));

    // Two kinds of credentials.
    workdir.set_env("RUNAI_TOKEN", "a-static-token-value-0000");
    workdir.add_secret("a-static-token-value-0000");
    workdir.set_env("RUNAI_CLIENT_ID", "runai-emulator");
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.output().contains("Two kinds of Run:ai credentials"),
        "{}",
        outcome.output()
    );
    assert!(outcome.output().contains("RUNAI_TOKEN"));
    workdir.remove_env("RUNAI_TOKEN");

    // A client id without its secret.
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.output().contains("client_secret is not"),
        "{}",
        outcome.output()
    );

    // A base URL that is not a URL.
    workdir.set_env("RUNAI_CLIENT_SECRET", "emulator-secret");
    workdir.write_config(&format!(
        "provider \"runai\" {{\n  base_url = \"acme.run.ai\"\n}}\n{resource}"
    ));
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .output()
            .contains("Invalid Run:ai control plane URL"),
        "{}",
        outcome.output()
    );

    // Plain HTTP to a remote host.
    workdir.write_config(&format!(
        "provider \"runai\" {{\n  base_url = \"http://runai.example.com\"\n}}\n{resource}"
    ));
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .output()
            .contains("Credentials would travel unencrypted"),
        "{}",
        outcome.output()
    );

    // Each of those was an apply: a configuration error that slipped through would have created.
    assert_eq!(emulator.emulator.stats()["total_requests"], 0);
}

/// Credentials the control plane refuses: the error says which ones were used, never their value.
#[test]
fn terraform_wrong_credentials_name_the_client_id_and_not_the_secret() {
    let emulator = emulator();
    let mut workdir = Workdir::new(&emulator);
    workdir.set_env("RUNAI_CLIENT_SECRET", "wrong-secret-value-8e8e");
    workdir.add_secret("wrong-secret-value-8e8e");
    workdir.add_secret(PASSWORD);
    workdir.write_config(&format!(
        "provider \"runai\" {{}}\nresource \"runai_registry\" \"ok\" {{\n  name = \"ok\"\n  scope = \"tenant\"\n  url = \"https://r.example.com\"\n  user = \"u\"\n  password = \"{PASSWORD}\"\n}}\n"
    ));
    let outcome = workdir.run(&["apply", "-auto-approve", "-input=false"]);
    assert_eq!(outcome.code, 1);
    let output = outcome.output();
    assert!(output.contains("rejected"), "{output}");
    assert!(output.contains("client_id \"runai-emulator\""), "{output}");
    assert!(output.contains("RUNAI_CLIENT_SECRET"), "{output}");
    assert!(emulator.emulator.registries().is_empty());
}
