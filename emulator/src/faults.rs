//! Fault injection for the `/api/v1/asset/...` routes: added latency, 503s, 429s with `Retry-After`, and
//! changes that are committed but answered 503 (which a client must not blindly retry as a create).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::emulator::{read, Emulator};
use crate::error::ApiError;
use crate::stats::InjectedFault;

/// The message of every injected 503, the same before and after a commit so a client cannot tell them apart.
const UNAVAILABLE_MESSAGE: &str = "the service is temporarily unavailable (injected fault)";

/// Middleware that applies the emulator's current [`crate::Faults`] to one request.
pub async fn inject(State(emulator): State<Emulator>, request: Request, next: Next) -> Response {
    let faults = read(&emulator.inner.faults).clone();
    let stats = &emulator.inner.stats;

    if faults.latency_max_ms > 0 {
        let latency = rand::thread_rng().gen_range(faults.latency_min_ms..=faults.latency_max_ms);
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if happens(faults.unavailable_ratio) {
        stats.count_fault(InjectedFault::Unavailable);
        return unavailable();
    }
    if happens(faults.rate_limit_ratio) {
        stats.count_fault(InjectedFault::RateLimited);
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests, retry later (injected fault)",
        );
        error.retry_after_secs = Some(faults.retry_after_secs);
        return error.into_response();
    }

    let changes_state = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::DELETE
    );
    let response = next.run(request).await;
    // Only a change that really happened can be "lost" on the way back.
    if changes_state && response.status().is_success() && happens(faults.fail_after_commit_ratio) {
        stats.count_fault(InjectedFault::FailedAfterCommit);
        return unavailable();
    }
    response
}

/// Draws whether a fault with probability `ratio` happens; 0.0 never does and 1.0 always does.
fn happens(ratio: f64) -> bool {
    ratio > 0.0 && rand::thread_rng().gen::<f64>() < ratio
}

fn unavailable() -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_extremes_are_deterministic() {
        assert!((0..1000).all(|_| happens(1.0)));
        assert!(!(0..1000).any(|_| happens(0.0)));
    }
}
