//! The contract does not say how GET returns a registry's password: as sent, masked or not at all.
//! In each mode, an apply must be followed by an empty plan; where the API returns a real value that
//! differs (changed outside Terraform), the plan must show the drift without showing the value.

use crate::support::emulator_with;
use crate::support::terraform::Workdir;
use runai_emulator::{EmulatorConfig, PasswordMode};

const PASSWORD: &str = "mode-test-password-91c2";
const CHANGED_OUTSIDE: &str = "changed-outside-terraform-55e0";

fn config() -> String {
    format!(
        r#"
provider "runai" {{}}

resource "runai_registry" "example" {{
  name     = "modes"
  scope    = "tenant"
  url      = "https://registry.example.com"
  user     = "robot"
  password = "{PASSWORD}"
  workload_supported_types {{
    training       = true
    dist_framework = "PyTorch"
  }}
}}
"#
    )
}

fn workdir_for(mode: PasswordMode) -> (runai_emulator::RunningEmulator, Workdir) {
    let emulator = emulator_with(EmulatorConfig {
        password_mode: mode,
        ..EmulatorConfig::default()
    });
    let mut workdir = Workdir::new(&emulator);
    workdir.add_secret(PASSWORD);
    workdir.add_secret(CHANGED_OUTSIDE);
    workdir.write_config(&config());
    (emulator, workdir)
}

#[test]
fn terraform_plan_is_empty_after_apply_in_every_password_mode() {
    for mode in [
        PasswordMode::AsSent,
        PasswordMode::Masked,
        PasswordMode::Omitted,
    ] {
        let (emulator, workdir) = workdir_for(mode);
        workdir.apply();
        workdir.assert_no_changes();
        // A refresh must not lose the password either: the state keeps the configured one.
        workdir.success(&["refresh"]);
        workdir.assert_no_changes();
        assert_eq!(
            emulator.emulator.registries()[0]["spec"]["password"],
            PASSWORD,
            "mode {mode:?}: the API holds the configured password"
        );
        workdir.success(&["destroy", "-auto-approve"]);
    }
}

#[test]
fn terraform_shows_password_drift_when_the_api_returns_it_and_repairs_it() {
    let (emulator, workdir) = workdir_for(PasswordMode::AsSent);
    workdir.apply();
    let id = emulator.emulator.registries()[0]["meta"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(emulator
        .emulator
        .set_password_out_of_band(&id, CHANGED_OUTSIDE));
    let plan = workdir.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("password"), "{}", plan.stdout);
    assert!(plan.stdout.contains("(sensitive value)"), "{}", plan.stdout);
    workdir.apply();
    assert_eq!(
        emulator.emulator.registries()[0]["spec"]["password"],
        PASSWORD
    );
    workdir.assert_no_changes();
}

#[test]
fn terraform_import_in_masked_mode_sets_the_password_on_the_next_apply() {
    let (emulator, workdir) = workdir_for(PasswordMode::Masked);
    workdir.apply();
    let id = emulator.emulator.registries()[0]["meta"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(emulator
        .emulator
        .set_password_out_of_band(&id, CHANGED_OUTSIDE));

    // As documented: an import cannot read a masked password, so the next plan sets it in place.
    let mut imported = Workdir::new(&emulator);
    imported.add_secret(PASSWORD);
    imported.add_secret(CHANGED_OUTSIDE);
    imported.write_config(&config());
    imported.success(&["import", "runai_registry.example", &id]);
    let plan = imported.plan();
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    imported.apply();
    assert_eq!(
        emulator.emulator.registries()[0]["spec"]["password"],
        PASSWORD
    );
    imported.assert_no_changes();
}
