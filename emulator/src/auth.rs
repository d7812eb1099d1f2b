//! Authentication: the token exchange of `POST /api/v1/token` and the bearer-token check of other routes.
//!
//! Access tokens are JWT-shaped (`header.payload.signature`, base64url) so that clients can read `exp`
//! like they would from real Run:ai, but the signature is random: the emulator only accepts tokens it
//! remembers having issued, which is also what makes revocation possible.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::validate::parse_json;

/// The body of `POST /api/v1/token`; which fields are needed depends on `grantType`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequestBody {
    grant_type: Option<String>,
    #[serde(rename = "appID")]
    app_id: Option<String>,
    app_secret: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The credentials a token request presents, whatever its grant type.
#[derive(PartialEq)]
pub struct Credentials {
    pub id: String,
    pub secret: String,
}

/// Written by hand so that the secret never reaches a log.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Parses a token request: 400 for a malformed body, an unknown grant type or a missing field.
pub fn parse_token_request(body: &[u8]) -> Result<Credentials, ApiError> {
    let request: TokenRequestBody = parse_json(body)?;
    let (id, secret, id_name, secret_name) = match request.grant_type.as_deref() {
        Some("app_token") => (request.app_id, request.app_secret, "appID", "appSecret"),
        Some("client_credentials") => (
            request.client_id,
            request.client_secret,
            "clientId",
            "clientSecret",
        ),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "grantType: unsupported grant type {other:?}, expected app_token or client_credentials"
        )))
        }
        None => return Err(ApiError::bad_request("grantType: is required")),
    };
    let mut missing = Vec::new();
    if id.as_deref().map_or(true, str::is_empty) {
        missing.push(format!("{id_name}: is required"));
    }
    if secret.as_deref().map_or(true, str::is_empty) {
        missing.push(format!("{secret_name}: is required"));
    }
    match (id, secret) {
        (Some(id), Some(secret)) if missing.is_empty() => Ok(Credentials { id, secret }),
        _ => Err(ApiError::bad_request(missing.join("; "))),
    }
}

/// One issued access token.
struct IssuedToken {
    subject: String,
    expires_at: Instant,
}

/// The tokens the emulator has issued and still honours.
#[derive(Default)]
pub struct TokenBook {
    tokens: HashMap<String, IssuedToken>,
    issued_count: u64,
}

impl TokenBook {
    /// Issues a new access token for `subject`, valid for `ttl`.
    pub fn issue(&mut self, subject: &str, ttl: Duration) -> String {
        let now = Instant::now();
        // Expired tokens are useless; dropping them here keeps the book from growing without bound.
        self.tokens.retain(|_, token| token.expires_at > now);
        let token = make_jwt(subject, ttl);
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                subject: subject.to_string(),
                expires_at: now + ttl,
            },
        );
        self.issued_count += 1;
        token
    }

    /// The subject of `token` if it was issued here, has not expired and has not been revoked.
    pub fn subject_of(&self, token: &str) -> Option<String> {
        self.tokens
            .get(token)
            .filter(|issued| issued.expires_at > Instant::now())
            .map(|issued| issued.subject.clone())
    }

    /// Forgets every issued token, so clients must ask for a new one.
    pub fn revoke_all(&mut self) {
        self.tokens.clear();
    }

    /// How many tokens have been issued since start.
    pub fn issued_count(&self) -> u64 {
        self.issued_count
    }
}

/// Builds a JWT-shaped token whose payload carries `sub`, `iat` and `exp` in unix seconds.
fn make_jwt(subject: &str, ttl: Duration) -> String {
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let payload = json!({
        "sub": subject,
        "iat": issued_at,
        "exp": issued_at + ttl.as_secs(),
        "iss": "runai-emulator",
    });
    let mut signature = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut signature);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Extracts the token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header_value: Option<&str>) -> Result<&str, ApiError> {
    let value = header_value.ok_or_else(|| {
        ApiError::unauthorized("missing Authorization header with a bearer token")
    })?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not a bearer token"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header is not a bearer token",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_payload(token: &str) -> serde_json::Value {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url payload");
        serde_json::from_slice(&payload).expect("JSON payload")
    }

    #[test]
    fn issued_tokens_are_jwt_shaped_with_sub_iat_and_exp() {
        let mut book = TokenBook::default();
        let token = book.issue("my-app", Duration::from_secs(600));
        let payload = decode_payload(&token);
        assert_eq!(payload["sub"], "my-app");
        let issued_at = payload["iat"].as_u64().expect("iat");
        assert_eq!(payload["exp"].as_u64(), Some(issued_at + 600));
        assert_eq!(book.subject_of(&token).as_deref(), Some("my-app"));
        assert_eq!(book.issued_count(), 1);
    }

    #[test]
    fn tokens_expire_and_can_be_revoked() {
        let mut book = TokenBook::default();
        let short = book.issue("a", Duration::from_millis(1));
        let long = book.issue("b", Duration::from_secs(600));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(book.subject_of(&short), None);
        assert!(book.subject_of(&long).is_some());
        book.revoke_all();
        assert_eq!(book.subject_of(&long), None);
        assert_eq!(book.subject_of("made.up.token"), None);
    }

    #[test]
    fn token_requests_of_both_grant_types_parse() {
        let app = br#"{"grantType":"app_token","appID":"id1","appSecret":"s1","extra":1}"#;
        assert_eq!(
            parse_token_request(app).expect("valid"),
            Credentials {
                id: "id1".into(),
                secret: "s1".into()
            }
        );
        let client = br#"{"grantType":"client_credentials","clientId":"id2","clientSecret":"s2"}"#;
        assert_eq!(parse_token_request(client).expect("valid").id, "id2");
    }

    #[test]
    fn bad_token_requests_are_rejected_without_quoting_the_secret() {
        let unknown = br#"{"grantType":"password","appID":"a","appSecret":"b"}"#;
        assert!(parse_token_request(unknown)
            .unwrap_err()
            .message
            .contains("grantType"));
        let missing = br#"{"grantType":"app_token","appID":"a"}"#;
        assert_eq!(
            parse_token_request(missing).unwrap_err().message,
            "appSecret: is required"
        );
        let typed = br#"{"grantType":"client_credentials","clientId":"a","clientSecret":918273}"#;
        let message = parse_token_request(typed).unwrap_err().message;
        assert!(!message.contains("918273"), "{message}");
        assert!(parse_token_request(b"grantType=app_token").is_err());
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")).expect("valid"), "abc");
        assert_eq!(bearer_token(Some("bearer abc")).expect("valid"), "abc");
        assert!(bearer_token(None).is_err());
        assert!(bearer_token(Some("Basic abc")).is_err());
        assert!(bearer_token(Some("Bearer ")).is_err());
    }
}
