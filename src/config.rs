//! From the provider block and the `RUNAI_*` environment to a validated client configuration.
//!
//! Each setting is taken from the provider block when set there, else from its environment variable.
//! Exactly one way to authenticate must then be complete: a `token`, or a `client_id` with its
//! `client_secret`. Every problem is reported at once, each naming the attribute and the variable
//! to set, so a user fixes their configuration in one go.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tf_provider::value::{Value, ValueBool, ValueNumber};

use crate::client::{ClientConfig, Credentials, RetryPolicy};
use crate::validation;

/// The provider block as Terraform sends it. `Debug` is not derived: it holds the token and the
/// client secret in clear.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ProviderConfig {
    #[serde(default)]
    pub base_url: Value<String>,
    #[serde(default)]
    pub token: Value<String>,
    #[serde(default)]
    pub client_id: Value<String>,
    #[serde(default)]
    pub client_secret: Value<String>,
    #[serde(default)]
    pub request_timeout_seconds: ValueNumber,
    #[serde(default)]
    pub max_retries: ValueNumber,
    #[serde(default)]
    pub retry_timeout_seconds: ValueNumber,
    #[serde(default)]
    pub ca_certificate: Value<String>,
    #[serde(default)]
    pub insecure_skip_tls_verify: ValueBool,
    #[serde(default)]
    pub allow_insecure_http: ValueBool,
}

/// The environment variables the provider reads, next to the attribute each stands in for.
pub const ENVIRONMENT: [(&str, &str); 4] = [
    ("base_url", "RUNAI_BASE_URL"),
    ("token", "RUNAI_TOKEN"),
    ("client_id", "RUNAI_CLIENT_ID"),
    ("client_secret", "RUNAI_CLIENT_SECRET"),
];

/// Defaults of the tuning attributes.
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: i64 = 30;
pub const DEFAULT_MAX_RETRIES: i64 = 10;
pub const DEFAULT_RETRY_TIMEOUT_SECONDS: i64 = 120;

/// One thing wrong with the configuration, attached to an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub attribute: &'static str,
    pub summary: String,
    pub detail: String,
}

/// What came out of resolving the configuration.
#[derive(Debug)]
pub enum Resolved {
    /// A complete client configuration, with warnings to show.
    Ready {
        config: Box<ClientConfig>,
        warnings: Vec<ConfigProblem>,
    },
    /// Some value is not known yet (it comes from a resource not yet created); the client will be
    /// configured in a later run, and resources must not call the API in this one.
    Unknown { attribute: &'static str },
    /// The configuration is wrong.
    Invalid(Vec<ConfigProblem>),
}

/// Where a setting came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Attribute,
    Environment(&'static str),
}

/// A resolved string setting.
struct Setting {
    value: String,
    source: Source,
}

impl Setting {
    fn describe(&self, attribute: &str) -> String {
        match self.source {
            Source::Attribute => format!("the provider attribute {attribute}"),
            Source::Environment(variable) => format!("the environment variable {variable}"),
        }
    }
}

/// Resolves the provider block against the environment, read through `environment` so tests can
/// pass their own.
pub fn resolve(config: &ProviderConfig, environment: &dyn Fn(&str) -> Option<String>) -> Resolved {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    // A setting from the block wins; an empty environment variable counts as unset, as shells
    // often export empty values.
    let setting = |attribute: &'static str, value: &Value<String>| -> Result<Option<Setting>, ()> {
        match value {
            Value::Unknown => Err(()),
            Value::Value(value) => Ok(Some(Setting {
                value: value.clone(),
                source: Source::Attribute,
            })),
            Value::Null => {
                let variable = ENVIRONMENT
                    .iter()
                    .find(|(name, _)| *name == attribute)
                    .map(|(_, variable)| *variable);
                Ok(variable.and_then(|variable| {
                    environment(variable)
                        .filter(|value| !value.is_empty())
                        .map(|value| Setting {
                            value,
                            source: Source::Environment(variable),
                        })
                }))
            }
        }
    };
    let (base_url, token, client_id, client_secret) = match (
        setting("base_url", &config.base_url),
        setting("token", &config.token),
        setting("client_id", &config.client_id),
        setting("client_secret", &config.client_secret),
    ) {
        (Ok(base_url), Ok(token), Ok(client_id), Ok(client_secret)) => {
            (base_url, token, client_id, client_secret)
        }
        (base_url, token, client_id, _) => {
            let attribute = if base_url.is_err() {
                "base_url"
            } else if token.is_err() {
                "token"
            } else if client_id.is_err() {
                "client_id"
            } else {
                "client_secret"
            };
            return Resolved::Unknown { attribute };
        }
    };
    if [
        &config.request_timeout_seconds,
        &config.max_retries,
        &config.retry_timeout_seconds,
    ]
    .iter()
    .any(|value| value.is_unknown())
        || config.ca_certificate.is_unknown()
        || config.insecure_skip_tls_verify.is_unknown()
        || config.allow_insecure_http.is_unknown()
    {
        return Resolved::Unknown {
            attribute: "a tuning attribute",
        };
    }

    match &base_url {
        None => problems.push(ConfigProblem {
            attribute: "base_url",
            summary: "Missing Run:ai control plane URL".into(),
            detail:
                "Set base_url in the provider block or the environment variable RUNAI_BASE_URL \
                     to the control plane's URL, such as https://<tenant>.run.ai."
                    .into(),
        }),
        Some(setting) => {
            if let Err(message) = validation::base_url(&setting.value) {
                problems.push(ConfigProblem {
                    attribute: "base_url",
                    summary: "Invalid Run:ai control plane URL".into(),
                    detail: format!(
                        "base_url (from {}) {message}.",
                        setting.describe("base_url")
                    ),
                });
            }
        }
    }

    let credentials = match (&token, &client_id, &client_secret) {
        (Some(token), None, None) => Some((
            Credentials::StaticToken(SecretString::from(token.value.clone())),
            format!("the token from {}", token.describe("token")),
        )),
        (None, Some(id), Some(secret)) => Some((
            Credentials::Application {
                client_id: id.value.clone(),
                client_secret: SecretString::from(secret.value.clone()),
            },
            format!(
                "client_id {:?} (from {}) and its client_secret (from {})",
                id.value,
                id.describe("client_id"),
                secret.describe("client_secret")
            ),
        )),
        (None, None, None) => {
            problems.push(ConfigProblem {
                attribute: "token",
                summary: "Missing Run:ai credentials".into(),
                detail: "Set either token (or RUNAI_TOKEN), or client_id and client_secret (or \
                         RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET), in the provider block or the \
                         environment."
                    .into(),
            });
            None
        }
        (None, Some(id), None) => {
            problems.push(ConfigProblem {
                attribute: "client_secret",
                summary: "Incomplete Run:ai credentials".into(),
                detail: format!(
                    "client_id is set (from {}) but client_secret is not: set client_secret or \
                     RUNAI_CLIENT_SECRET to the application's secret.",
                    id.describe("client_id")
                ),
            });
            None
        }
        (None, None, Some(secret)) => {
            problems.push(ConfigProblem {
                attribute: "client_id",
                summary: "Incomplete Run:ai credentials".into(),
                detail: format!(
                    "client_secret is set (from {}) but client_id is not: set client_id or \
                     RUNAI_CLIENT_ID to the application's id.",
                    secret.describe("client_secret")
                ),
            });
            None
        }
        (Some(token), id, secret) => {
            let other = id
                .as_ref()
                .map(|id| format!("client_id (from {})", id.describe("client_id")))
                .or_else(|| {
                    secret.as_ref().map(|secret| {
                        format!("client_secret (from {})", secret.describe("client_secret"))
                    })
                })
                .unwrap_or_default();
            problems.push(ConfigProblem {
                attribute: "token",
                summary: "Two kinds of Run:ai credentials".into(),
                detail: format!(
                    "Both token (from {}) and {other} are set. Use exactly one way to \
                     authenticate: either token, or client_id with client_secret; unset the other \
                     in the provider block or the environment.",
                    token.describe("token")
                ),
            });
            None
        }
    };

    let mut seconds = |attribute: &'static str, value: &ValueNumber, default: i64, max: i64| {
        let value = value.as_ref_option().copied().unwrap_or(default);
        if value < 1 || value > max {
            problems.push(ConfigProblem {
                attribute,
                summary: format!("Invalid {attribute}"),
                detail: format!("{attribute} must be between 1 and {max}; got {value}."),
            });
        }
        value.clamp(1, max)
    };
    let request_timeout = seconds(
        "request_timeout_seconds",
        &config.request_timeout_seconds,
        DEFAULT_REQUEST_TIMEOUT_SECONDS,
        3600,
    );
    let retry_timeout = seconds(
        "retry_timeout_seconds",
        &config.retry_timeout_seconds,
        DEFAULT_RETRY_TIMEOUT_SECONDS,
        86_400,
    );
    let max_retries = config
        .max_retries
        .as_ref_option()
        .copied()
        .unwrap_or(DEFAULT_MAX_RETRIES);
    if !(0..=100).contains(&max_retries) {
        problems.push(ConfigProblem {
            attribute: "max_retries",
            summary: "Invalid max_retries".into(),
            detail: format!("max_retries must be between 0 and 100; got {max_retries}."),
        });
    }

    let insecure_skip_tls_verify = config
        .insecure_skip_tls_verify
        .as_ref_option()
        .copied()
        .unwrap_or(false);
    if insecure_skip_tls_verify {
        warnings.push(ConfigProblem {
            attribute: "insecure_skip_tls_verify",
            summary: "TLS certificate verification is off".into(),
            detail: "insecure_skip_tls_verify = true accepts any certificate, so anyone on the \
                     network path can read the credentials. Use ca_certificate to trust a private CA \
                     instead."
                .into(),
        });
    }
    let allow_insecure_http = config
        .allow_insecure_http
        .as_ref_option()
        .copied()
        .unwrap_or(false);

    if let (Some(base_url), Some(_)) = (&base_url, &credentials) {
        if let Ok(url) = url::Url::parse(&base_url.value) {
            if url.scheme() == "http" && !allow_insecure_http && !crate::client::is_loopback(&url) {
                problems.push(ConfigProblem {
                    attribute: "base_url",
                    summary: "Credentials would travel unencrypted".into(),
                    detail: format!(
                        "base_url {:?} uses plain http:// to a host that is not this machine, so the \
                         credentials would cross the network unencrypted. Use https://, or set \
                         allow_insecure_http = true in the provider block if you accept that.",
                        base_url.value
                    ),
                });
            }
        }
    }

    match (problems.is_empty(), base_url, credentials) {
        (true, Some(base_url), Some((credentials, credentials_description))) => {
            let mut client = ClientConfig::new(base_url.value, credentials);
            client.credentials_description = credentials_description;
            client.request_timeout = Duration::from_secs(request_timeout as u64);
            client.retry = RetryPolicy {
                max_retries: max_retries as u32,
                timeout: Duration::from_secs(retry_timeout as u64),
                ..RetryPolicy::default()
            };
            client.ca_certificate_pem = config.ca_certificate.as_ref_option().cloned();
            client.insecure_skip_tls_verify = insecure_skip_tls_verify;
            client.allow_insecure_http = allow_insecure_http;
            Resolved::Ready {
                config: Box::new(client),
                warnings,
            }
        }
        _ => Resolved::Invalid(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn environment(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    fn problems(resolved: Resolved) -> Vec<ConfigProblem> {
        match resolved {
            Resolved::Invalid(problems) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn the_environment_fills_what_the_block_leaves_out() {
        let resolved = resolve(
            &ProviderConfig::default(),
            &environment(&[
                ("RUNAI_BASE_URL", "https://acme.run.ai/"),
                ("RUNAI_CLIENT_ID", "ci"),
                ("RUNAI_CLIENT_SECRET", "s3cr3t"),
            ]),
        );
        let Resolved::Ready { config, warnings } = resolved else {
            panic!("expected a configuration")
        };
        assert!(warnings.is_empty());
        assert_eq!(config.base_url, "https://acme.run.ai");
        match &config.credentials {
            Credentials::Application {
                client_id,
                client_secret,
            } => {
                assert_eq!(client_id, "ci");
                assert_eq!(client_secret.expose_secret(), "s3cr3t");
            }
            other => panic!("unexpected credentials {other:?}"),
        }
        assert!(config.credentials_description.contains("RUNAI_CLIENT_ID"));
        assert!(!config.credentials_description.contains("s3cr3t"));
    }

    #[test]
    fn the_block_wins_over_the_environment() {
        let config = ProviderConfig {
            base_url: Value::Value("https://block.run.ai".into()),
            ..Default::default()
        };
        let resolved = resolve(
            &config,
            &environment(&[
                ("RUNAI_BASE_URL", "https://environment.run.ai"),
                ("RUNAI_TOKEN", "t"),
            ]),
        );
        let Resolved::Ready { config, .. } = resolved else {
            panic!("expected a configuration")
        };
        assert_eq!(config.base_url, "https://block.run.ai");
    }

    #[test]
    fn no_credentials_names_both_ways_to_authenticate() {
        let found = problems(resolve(
            &ProviderConfig::default(),
            &environment(&[("RUNAI_BASE_URL", "https://acme.run.ai")]),
        ));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].attribute, "token");
        assert!(found[0].detail.contains("RUNAI_TOKEN"));
        assert!(found[0].detail.contains("RUNAI_CLIENT_SECRET"));
    }

    #[test]
    fn two_kinds_of_credentials_are_refused_and_say_where_each_came_from() {
        let config = ProviderConfig {
            token: Value::Value("t0ken-value".into()),
            ..Default::default()
        };
        let found = problems(resolve(
            &config,
            &environment(&[
                ("RUNAI_BASE_URL", "https://acme.run.ai"),
                ("RUNAI_CLIENT_ID", "ci"),
            ]),
        ));
        assert_eq!(found[0].summary, "Two kinds of Run:ai credentials");
        assert!(found[0].detail.contains("RUNAI_CLIENT_ID"));
        assert!(found[0].detail.contains("provider attribute token"));
        assert!(!found[0].detail.contains("t0ken-value"));
    }

    #[test]
    fn a_client_id_without_its_secret_names_the_secret() {
        let found = problems(resolve(
            &ProviderConfig::default(),
            &environment(&[
                ("RUNAI_BASE_URL", "https://acme.run.ai"),
                ("RUNAI_CLIENT_ID", "ci"),
            ]),
        ));
        assert_eq!(found[0].attribute, "client_secret");
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_unless_allowed() {
        let env = environment(&[
            ("RUNAI_BASE_URL", "http://acme.example.com"),
            ("RUNAI_TOKEN", "t"),
        ]);
        let found = problems(resolve(&ProviderConfig::default(), &env));
        assert_eq!(found[0].summary, "Credentials would travel unencrypted");
        let allowed = ProviderConfig {
            allow_insecure_http: Value::Value(true),
            ..Default::default()
        };
        assert!(matches!(resolve(&allowed, &env), Resolved::Ready { .. }));
        let loopback = environment(&[
            ("RUNAI_BASE_URL", "http://127.0.0.1:8080"),
            ("RUNAI_TOKEN", "t"),
        ]);
        assert!(matches!(
            resolve(&ProviderConfig::default(), &loopback),
            Resolved::Ready { .. }
        ));
    }

    #[test]
    fn skipping_tls_verification_warns() {
        let config = ProviderConfig {
            insecure_skip_tls_verify: Value::Value(true),
            ..Default::default()
        };
        let resolved = resolve(
            &config,
            &environment(&[
                ("RUNAI_BASE_URL", "https://acme.run.ai"),
                ("RUNAI_TOKEN", "t"),
            ]),
        );
        let Resolved::Ready { warnings, config } = resolved else {
            panic!("expected a configuration")
        };
        assert!(config.insecure_skip_tls_verify);
        assert_eq!(warnings[0].attribute, "insecure_skip_tls_verify");
    }

    #[test]
    fn unknown_values_defer_configuration() {
        let config = ProviderConfig {
            base_url: Value::Unknown,
            ..Default::default()
        };
        assert!(matches!(
            resolve(&config, &environment(&[])),
            Resolved::Unknown {
                attribute: "base_url"
            }
        ));
    }

    #[test]
    fn tuning_values_out_of_range_are_refused() {
        let config = ProviderConfig {
            request_timeout_seconds: Value::Value(0),
            max_retries: Value::Value(-1),
            ..Default::default()
        };
        let found = problems(resolve(
            &config,
            &environment(&[
                ("RUNAI_BASE_URL", "https://acme.run.ai"),
                ("RUNAI_TOKEN", "t"),
            ]),
        ));
        let attributes: Vec<_> = found.iter().map(|problem| problem.attribute).collect();
        assert_eq!(attributes, ["request_timeout_seconds", "max_retries"]);
    }
}
