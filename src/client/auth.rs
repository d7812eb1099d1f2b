//! How the client authenticates: a static bearer token, or an application's id and secret exchanged
//! for a short-lived token at `POST /api/v1/token`.
//!
//! Exchanged tokens are cached and renewed shortly before the `exp` claim of their JWT, so a long
//! `terraform apply` never sends an expired token; a 401 renews once more (see `ApiClient::call`).
//! The cache is a single-flight: concurrent RPCs that find the token stale wait for one exchange rather
//! than each starting their own.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

/// The credentials the provider was configured with.
#[derive(Clone)]
pub enum Credentials {
    /// A bearer token used as is; it cannot be renewed.
    StaticToken(SecretString),
    /// An application's id and secret, exchanged for tokens as needed.
    Application {
        client_id: String,
        client_secret: SecretString,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::StaticToken(_) => formatter.write_str("StaticToken(<redacted>)"),
            Credentials::Application { client_id, .. } => formatter
                .debug_struct("Application")
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .finish(),
        }
    }
}

/// The two token grants; 2.19 knows only `AppToken`, newer control planes also `ClientCredentials`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AppToken,
    ClientCredentials,
}

/// How long before its `exp` a token is renewed, so that a request in flight never carries one that
/// expires on the way.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// How long a token whose expiry cannot be read is trusted before it is exchanged again.
const FALLBACK_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// A token in the cache.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub value: SecretString,
    /// When to stop using it and exchange a new one.
    pub renew_at: Instant,
    /// Increases with every exchange, so that a 401 invalidates only the token that failed and not a
    /// newer one another RPC already fetched.
    pub generation: u64,
}

impl CachedToken {
    /// Wraps a freshly exchanged token, reading its expiry from the JWT.
    pub fn new(value: String, generation: u64) -> CachedToken {
        let lifetime = seconds_until_expiry(&value)
            .map(|seconds| Duration::from_secs(seconds).saturating_sub(RENEW_BEFORE_EXPIRY))
            .unwrap_or(FALLBACK_TOKEN_LIFETIME);
        CachedToken {
            value: SecretString::from(value),
            renew_at: Instant::now() + lifetime,
            generation,
        }
    }

    /// True while the token may still be sent.
    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }

    /// The token's value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

/// Reads a claim of a JWT's payload without verifying the signature: the client only needs the
/// expiry and the subject for its own bookkeeping; the server does the verifying.
pub fn jwt_claim(token: &str, claim: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(claim).cloned()
}

/// Seconds from now until the token's `exp`, or `None` when it is not a JWT with an `exp`.
fn seconds_until_expiry(token: &str) -> Option<u64> {
    let expiry = jwt_claim(token, "exp")?.as_f64()? as u64;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(expiry.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt_with(payload: serde_json::Value) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.signature",
            engine.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            engine.encode(payload.to_string())
        )
    }

    #[test]
    fn a_token_is_renewed_a_minute_before_its_exp() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = CachedToken::new(jwt_with(serde_json::json!({"exp": now + 3600})), 1);
        let lifetime = token.renew_at - Instant::now();
        assert!(lifetime > Duration::from_secs(3530) && lifetime <= Duration::from_secs(3540));
        assert!(token.is_fresh());
    }

    #[test]
    fn a_token_that_expires_within_a_minute_is_already_stale() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = CachedToken::new(jwt_with(serde_json::json!({"exp": now + 30})), 1);
        assert!(!token.is_fresh());
    }

    #[test]
    fn an_opaque_token_gets_the_fallback_lifetime() {
        let token = CachedToken::new("not-a-jwt".into(), 1);
        let lifetime = token.renew_at - Instant::now();
        assert!(lifetime > Duration::from_secs(290) && lifetime <= FALLBACK_TOKEN_LIFETIME);
    }

    #[test]
    fn claims_are_read_from_the_payload() {
        let token = jwt_with(serde_json::json!({"sub": "app-1"}));
        assert_eq!(jwt_claim(&token, "sub"), Some(serde_json::json!("app-1")));
        assert_eq!(jwt_claim("garbage", "sub"), None);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let credentials = Credentials::Application {
            client_id: "app".into(),
            client_secret: SecretString::from("s3cr3t-value".to_string()),
        };
        let token = Credentials::StaticToken(SecretString::from("t0ken-value".to_string()));
        assert!(!format!("{credentials:?}{token:?}").contains("s3cr3t-value"));
        assert!(!format!("{token:?}").contains("t0ken-value"));
    }
}
