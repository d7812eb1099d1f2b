//! When and how long to wait before trying a request again.
//!
//! Retries use exponential backoff with "equal jitter" (half the step fixed, half random), so that many
//! parallel Terraform RPCs hit by the same outage do not come back in lockstep. A `Retry-After` from the
//! server is a floor: the client never comes back sooner than it was asked to. Everything happens
//! within a time budget the user sets; a wait that would overrun the budget is not started.

use std::time::{Duration, Instant};

use rand::Rng;

/// The user's retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt, at most.
    pub max_retries: u32,
    /// The total time a call may take, retries and waits included.
    pub timeout: Duration,
    /// The first backoff step; each retry doubles it.
    pub initial_backoff: Duration,
    /// The largest backoff step.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 10,
            timeout: Duration::from_secs(120),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all; for tests that want to see the first failure.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (1-based), with jitter, at least `retry_after`.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let step = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_backoff);
        let half = step / 2;
        let jitter = rand::thread_rng().gen_range(Duration::ZERO..=half);
        (half + jitter).max(retry_after.unwrap_or(Duration::ZERO))
    }

    /// Decides whether retry number `retry` may start after waiting `wait`, for a call that began at
    /// `started`.
    pub fn allows(&self, retry: u32, wait: Duration, started: Instant) -> bool {
        retry <= self.max_retries && started.elapsed() + wait < self.timeout
    }
}

/// Reads a `Retry-After` header given in seconds. The HTTP-date form is not used by Run:ai and is
/// treated as absent, which falls back to the computed backoff.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// True for the statuses that mean "not now" rather than "no": worth another attempt.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps_and_stays_within_its_step() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.backoff(1, None);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3, None);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let tenth = policy.backoff(10, None);
            assert!(tenth >= Duration::from_millis(400) && tenth <= Duration::from_millis(800));
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let policy = RetryPolicy::default();
        assert!(policy.backoff(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

    #[test]
    fn the_budget_and_the_count_both_bound_retries() {
        let policy = RetryPolicy {
            max_retries: 2,
            timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let now = Instant::now();
        assert!(policy.allows(2, Duration::from_secs(1), now));
        assert!(!policy.allows(3, Duration::from_secs(1), now));
        assert!(!policy.allows(1, Duration::from_secs(6), now));
    }

    #[test]
    fn retry_after_seconds_parse_and_dates_do_not() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(is_retryable_status(503) && is_retryable_status(429));
        assert!(!is_retryable_status(500) && !is_retryable_status(409));
    }
}
