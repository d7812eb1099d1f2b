//! The emulator's configuration: credentials, token lifetime, password mode, fault injection and persistence.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How registry passwords appear in API responses.
///
/// Real Run:ai deployments differ here, so the provider must cope with all three; the mode can be switched
/// at runtime to test that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordMode {
    /// Responses contain the stored password exactly as it was sent.
    #[default]
    AsSent,
    /// Responses contain the placeholder `********` instead of the password.
    Masked,
    /// Responses have no `password` key in `spec`.
    Omitted,
}

/// The placeholder that replaces passwords in [`PasswordMode::Masked`].
pub const MASKED_PASSWORD: &str = "********";

impl PasswordMode {
    /// Every mode, in the order the help text lists them.
    pub const ALL: [PasswordMode; 3] = [
        PasswordMode::AsSent,
        PasswordMode::Masked,
        PasswordMode::Omitted,
    ];

    /// The name used on the command line, in the admin API and by [`fmt::Display`].
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordMode::AsSent => "as-sent",
            PasswordMode::Masked => "masked",
            PasswordMode::Omitted => "omitted",
        }
    }
}

impl fmt::Display for PasswordMode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for PasswordMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PasswordMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| {
                format!("unknown password mode {text:?}: expected as-sent, masked or omitted")
            })
    }
}

/// Faults injected into the `/api/v1/asset/...` routes, so clients can be tested against a flaky server.
///
/// Ratios are probabilities between 0.0 and 1.0; 0.0 never injects and 1.0 always does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
// Unknown keys are refused so that a typo in a test's fault settings cannot silently inject nothing.
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The smallest added latency, in milliseconds.
    pub latency_min_ms: u64,
    /// The largest added latency, in milliseconds; the latency is uniform between the two bounds.
    pub latency_max_ms: u64,
    /// The share of requests answered 503 before anything else happens.
    pub unavailable_ratio: f64,
    /// The share of requests answered 429 with a `Retry-After` header.
    pub rate_limit_ratio: f64,
    /// The value of the `Retry-After` header, in seconds.
    pub retry_after_secs: u64,
    /// The share of successful POST/PUT/DELETE requests whose change is kept but that are answered 503.
    pub fail_after_commit_ratio: f64,
}

impl Faults {
    /// Checks that every ratio is a probability and that the latency bounds are ordered.
    pub fn validate(&self) -> Result<(), String> {
        let ratios = [
            ("unavailable_ratio", self.unavailable_ratio),
            ("rate_limit_ratio", self.rate_limit_ratio),
            ("fail_after_commit_ratio", self.fail_after_commit_ratio),
        ];
        for (name, ratio) in ratios {
            if !(0.0..=1.0).contains(&ratio) {
                return Err(format!("{name}: must be between 0.0 and 1.0, got {ratio}"));
            }
        }
        if self.latency_min_ms > self.latency_max_ms {
            return Err(format!(
                "latency_min_ms ({}) must not be greater than latency_max_ms ({})",
                self.latency_min_ms, self.latency_max_ms
            ));
        }
        Ok(())
    }
}

/// Everything needed to start an [`crate::Emulator`].
#[derive(Clone)]
pub struct EmulatorConfig {
    /// The client id (or app id) accepted by the token endpoint; it becomes `createdBy`/`updatedBy`.
    pub client_id: String,
    /// The secret that goes with `client_id`.
    pub client_secret: String,
    /// A bearer token that is always accepted, so scripts can skip the token exchange.
    pub static_token: Option<String>,
    /// How long an issued access token stays valid.
    pub token_ttl: Duration,
    /// How passwords appear in responses at start.
    pub password_mode: PasswordMode,
    /// Faults injected at start.
    pub faults: Faults,
    /// A JSON file that holds the registries across restarts; `None` keeps them in memory only.
    pub state_file: Option<PathBuf>,
    /// The `tenantId` reported on every registry.
    pub tenant_id: i32,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: "runai-emulator".to_string(),
            client_secret: "emulator-secret".to_string(),
            static_token: None,
            token_ttl: Duration::from_secs(3600),
            password_mode: PasswordMode::AsSent,
            faults: Faults::default(),
            state_file: None,
            tenant_id: 1001,
        }
    }
}

/// Written by hand so that the client secret and the static token never reach a log through `{:?}`.
impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EmulatorConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field(
                "static_token",
                &self.static_token.as_ref().map(|_| "<redacted>"),
            )
            .field("token_ttl", &self.token_ttl)
            .field("password_mode", &self.password_mode)
            .field("faults", &self.faults)
            .field("state_file", &self.state_file)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_mode_round_trips_through_its_name() {
        for mode in PasswordMode::ALL {
            assert_eq!(mode.to_string().parse::<PasswordMode>(), Ok(mode));
        }
        assert!("hidden".parse::<PasswordMode>().is_err());
    }

    #[test]
    fn faults_validation_rejects_bad_ratios_and_reversed_latency() {
        assert!(Faults::default().validate().is_ok());
        let bad_ratio = Faults {
            rate_limit_ratio: 1.5,
            ..Faults::default()
        };
        assert!(bad_ratio
            .validate()
            .unwrap_err()
            .contains("rate_limit_ratio"));
        let reversed = Faults {
            latency_min_ms: 10,
            latency_max_ms: 5,
            ..Faults::default()
        };
        assert!(reversed.validate().unwrap_err().contains("latency_min_ms"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = EmulatorConfig {
            client_secret: "top-secret-value".to_string(),
            static_token: Some("static-token-value".to_string()),
            ..EmulatorConfig::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("top-secret-value"));
        assert!(!text.contains("static-token-value"));
        assert!(text.contains("runai-emulator"));
    }
}
