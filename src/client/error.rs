//! Typed errors of the API client.
//!
//! Callers branch on [`ApiErrorKind`] (a 404 on read means "gone from state", a 409 on create means
//! "import it instead"), so every failure is classified once, here. An error carries the method, the
//! path, the status and the API's own `message`/`details`, and by construction never a request body, a
//! header or a secret: nothing that holds one is ever passed in.

use std::fmt;

/// What went wrong, for callers that branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 400: the API rejected the request's content.
    BadRequest,
    /// 401: the credentials were rejected (after one renewal of the token).
    Unauthorized,
    /// 403: the credentials are valid but lack a permission.
    Forbidden,
    /// 404: the asset does not exist.
    NotFound,
    /// 409: an asset with that name already exists in that scope.
    Conflict,
    /// 429, 502, 503, 504 once retries ran out.
    Unavailable,
    /// Any other status the contract does not give.
    UnexpectedStatus,
    /// The request never got an answer: connection refused or reset, DNS, TLS, timeout.
    Transport,
    /// An answer arrived but its body is not what the contract describes.
    Decode,
    /// The client could not even form the request (its body did not encode).
    Configuration,
}

impl ApiErrorKind {
    /// Classifies an HTTP status that is not a success.
    pub fn from_status(status: u16) -> ApiErrorKind {
        match status {
            400 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Unauthorized,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            409 => ApiErrorKind::Conflict,
            429 | 502 | 503 | 504 => ApiErrorKind::Unavailable,
            _ => ApiErrorKind::UnexpectedStatus,
        }
    }
}

/// A failed API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request path without the base URL, e.g. `/api/v1/asset/registries`.
    pub path: String,
    /// The HTTP status, when an answer arrived.
    pub status: Option<u16>,
    /// The API's `message`, or a description of the transport or decoding failure.
    pub message: Option<String>,
    /// The API's `details`, when it gave any.
    pub details: Option<String>,
    /// How many attempts were made before giving up.
    pub attempts: u32,
    /// For a conflict: the id of the asset that already holds the name, so the user can import it.
    pub existing_id: Option<String>,
}

impl ApiError {
    /// An error for a request that got an answer.
    pub fn from_status(
        method: &str,
        path: &str,
        status: u16,
        message: Option<String>,
        details: Option<String>,
    ) -> ApiError {
        ApiError {
            kind: ApiErrorKind::from_status(status),
            method: method.to_owned(),
            path: path.to_owned(),
            status: Some(status),
            message,
            details,
            attempts: 1,
            existing_id: None,
        }
    }

    /// An error of a given kind with a message of the client's own.
    pub fn new(kind: ApiErrorKind, method: &str, path: &str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            method: method.to_owned(),
            path: path.to_owned(),
            status: None,
            message: Some(message.into()),
            details: None,
            attempts: 1,
            existing_id: None,
        }
    }

    /// True when the asset does not exist, the one case callers treat as a normal outcome.
    pub fn is_not_found(&self) -> bool {
        self.kind == ApiErrorKind::NotFound
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.method, self.path)?;
        match self.status {
            Some(status) => write!(formatter, " answered HTTP {status}")?,
            None => write!(formatter, " failed")?,
        }
        if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
            write!(formatter, ": {message}")?;
        }
        if let Some(details) = self.details.as_deref().filter(|d| !d.is_empty()) {
            write!(formatter, " ({details})")?;
        }
        if self.attempts > 1 {
            write!(formatter, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_kinds_callers_branch_on() {
        assert_eq!(ApiErrorKind::from_status(404), ApiErrorKind::NotFound);
        assert_eq!(ApiErrorKind::from_status(409), ApiErrorKind::Conflict);
        assert_eq!(ApiErrorKind::from_status(429), ApiErrorKind::Unavailable);
        assert_eq!(ApiErrorKind::from_status(504), ApiErrorKind::Unavailable);
        assert_eq!(
            ApiErrorKind::from_status(418),
            ApiErrorKind::UnexpectedStatus
        );
    }

    #[test]
    fn display_names_method_path_status_message_and_attempts() {
        let mut error = ApiError::from_status(
            "GET",
            "/api/v1/asset/registries/x",
            503,
            Some("busy".into()),
            Some("try later".into()),
        );
        error.attempts = 4;
        assert_eq!(
            error.to_string(),
            "GET /api/v1/asset/registries/x answered HTTP 503: busy (try later) after 4 attempts"
        );
    }
}
