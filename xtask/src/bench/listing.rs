//! Item 4 of the benchmark: the two data sources on a registry asset whose registry holds 10,000
//! repositories, one of which has 10,000 tags. Each data source sits alone in a configuration that
//! Terraform applies: the time is the whole `terraform apply`, and a separate sampled run gives the
//! provider's peak memory and CPU time, which show how little of that time is the provider's.

use std::path::Path;

use anyhow::{ensure, Result};

use crate::process::announce;

use super::big_registry;
use super::report::{cpu_seconds, mebibytes, median_seconds, seconds, Row};
use super::workspace::{self, Terraform};
use super::{thousands, Interruption, Repetitions};

/// The number of repositories in the registry, and of tags in one repository.
const LISTED: usize = 10_000;

/// Measures both data sources. `terraform` gets the registry's address and login as `TF_VAR_registry_*`.
pub fn rows(
    terraform: &mut Terraform,
    work: &Path,
    repetitions: Repetitions,
    interruption: &Interruption,
) -> Result<Vec<Row>> {
    let listed = thousands(LISTED);
    announce(&format!(
        "bench: filling a docker-registry with {listed} repositories and {listed} tags"
    ));
    let big = big_registry::start(LISTED, LISTED, interruption)?;
    terraform.set_env("TF_VAR_registry_url", &big.registry.url);
    terraform.set_env("TF_VAR_registry_user", &big.registry.user);
    terraform.set_env("TF_VAR_registry_password", &big.registry.password);

    let asset = work.join("registry-asset");
    terraform.prepare(&asset, ASSET_CONFIGURATION)?;
    terraform.run(
        &asset,
        &["apply", "-no-color", "-input=false", "-auto-approve"],
    )?;
    let registry_id = terraform.run(&asset, &["output", "-raw", "registry_id"])?;
    terraform.set_env("TF_VAR_registry_id", registry_id.trim());

    let sources = [
        (
            "repositories",
            format!("`runai_registry_repositories`, {listed} repositories"),
            configuration("runai_registry_repositories", "repositories", None),
        ),
        (
            "tags",
            format!("`runai_registry_tags`, {listed} tags"),
            configuration("runai_registry_tags", "tags", Some(&big.tagged)),
        ),
    ];
    let mut rows = Vec::new();
    for (name, measurement, configuration) in &sources {
        let directory = work.join(name);
        terraform.prepare(&directory, configuration)?;
        let arguments = ["apply", "-no-color", "-input=false", "-auto-approve"];
        let unchanged = workspace::apply_summary(0);
        let mut times = Vec::new();
        for _round in 0..repetitions.terraform {
            interruption.check()?;
            times.push(terraform.timed(&directory, &arguments, &unchanged)?);
            check_listed(terraform, &directory)?;
        }
        let (_, sample) = terraform.sampled(&directory, &arguments, &unchanged)?;
        check_listed(terraform, &directory)?;
        let time = median_seconds(&times);
        rows.push(Row::figure(
            4,
            format!("{measurement}: `terraform apply` time"),
            seconds(time),
        ));
        rows.push(Row::figure(
            4,
            format!("{measurement}: provider peak memory (VmHWM)"),
            mebibytes(sample.peak_kib as f64),
        ));
        rows.push(Row::figure(
            4,
            format!("{measurement}: provider CPU time (user + system)"),
            cpu_seconds(sample.cpu_seconds),
        ));
    }
    Ok(rows)
}

/// A registry asset for the big registry, whose address and login come from `TF_VAR_registry_*`.
const ASSET_CONFIGURATION: &str = r#"terraform {
  required_providers {
    runai = { source = "runai/runai" }
  }
}

provider "runai" {}

variable "registry_url" {
  type = string
}

variable "registry_user" {
  type = string
}

variable "registry_password" {
  type      = string
  sensitive = true
}

resource "runai_registry" "listed" {
  name     = "bench-listed"
  scope    = "tenant"
  url      = var.registry_url
  user     = var.registry_user
  password = var.registry_password
}

output "registry_id" {
  value = runai_registry.listed.id
}
"#;

/// A configuration that holds only one data source of the big registry's asset, and the length of the
/// list it reads as the output `listed`.
fn configuration(data_source: &str, attribute: &str, repository: Option<&str>) -> String {
    let repository = repository
        .map(|name| format!("  repository  = {}\n", serde_json::Value::from(name)))
        .unwrap_or_default();
    format!(
        r#"terraform {{
  required_providers {{
    runai = {{ source = "runai/runai" }}
  }}
}}

provider "runai" {{}}

variable "registry_id" {{
  type = string
}}

data "{data_source}" "listed" {{
  registry_id = var.registry_id
{repository}}}

output "listed" {{
  value = length(data.{data_source}.listed.{attribute})
}}
"#
    )
}

/// Checks that the data source read the whole list.
fn check_listed(terraform: &Terraform, directory: &Path) -> Result<()> {
    let listed = terraform.run(directory, &["output", "-raw", "listed"])?;
    ensure!(
        listed.trim() == LISTED.to_string(),
        "the data source in {} read {} entries instead of {LISTED}",
        directory.display(),
        listed.trim()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_name_the_repository_only_for_tags() {
        let tags = configuration("runai_registry_tags", "tags", Some("bench/r-0"));
        assert!(tags.contains(r#"repository  = "bench/r-0""#), "{tags}");
        assert!(tags.contains("length(data.runai_registry_tags.listed.tags)"));
        let repositories = configuration("runai_registry_repositories", "repositories", None);
        assert!(!repositories.contains("repository "), "{repositories}");
    }
}
