//! Request counters, reported by `GET /_emulator/stats` and [`crate::Emulator::stats`], so tests can check
//! how many calls a client made (for example that it retried, or that it did not re-create), and the
//! window in which asset calls were in flight, so a benchmark can time the calls without the client's own
//! start-up and wind-down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The API operations, named by the contract's `operationId` (plus the token exchange).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    ListRegistries,
    CreateRegistry,
    GetRegistryById,
    UpdateRegistry,
    DeleteRegistry,
    GetRepositories,
    GetRepositoryTags,
    Token,
}

impl Operation {
    /// Every operation, in the order the stats list them.
    pub const ALL: [Operation; 8] = [
        Operation::ListRegistries,
        Operation::CreateRegistry,
        Operation::GetRegistryById,
        Operation::UpdateRegistry,
        Operation::DeleteRegistry,
        Operation::GetRepositories,
        Operation::GetRepositoryTags,
        Operation::Token,
    ];

    /// The contract's `operationId`, or `token` for the token exchange.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListRegistries => "list_registries",
            Operation::CreateRegistry => "create_registry",
            Operation::GetRegistryById => "get_registry_by_id",
            Operation::UpdateRegistry => "update_registry",
            Operation::DeleteRegistry => "delete_registry",
            Operation::GetRepositories => "get_repositories",
            Operation::GetRepositoryTags => "get_repository_tags",
            Operation::Token => "token",
        }
    }

    fn index(self) -> usize {
        Operation::ALL
            .iter()
            .position(|operation| *operation == self)
            .expect("every operation is listed in ALL")
    }
}

/// The kinds of injected faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InjectedFault {
    Unavailable,
    RateLimited,
    FailedAfterCommit,
}

/// Counters and the asset-call window; requests update them concurrently. The counters are lock-free; the
/// window takes a lock held only to compare two instants, never across an await.
#[derive(Default)]
pub struct Stats {
    total_requests: AtomicU64,
    operations: [AtomicU64; Operation::ALL.len()],
    unavailable: AtomicU64,
    rate_limited: AtomicU64,
    failed_after_commit: AtomicU64,
    asset_window: Mutex<AssetWindow>,
}

/// When the first asset call since the last reset arrived and when the last one was answered.
#[derive(Clone, Copy, Debug, Default)]
struct AssetWindow {
    first_arrival: Option<Instant>,
    last_answer: Option<Instant>,
}

impl Stats {
    /// Counts one request to the API (`/api/...`), whatever its route.
    pub fn count_request(&self) {
        self.total_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request to `operation`, including those later answered by an injected fault.
    pub fn count_operation(&self, operation: Operation) {
        self.operations[operation.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one injected fault.
    pub fn count_fault(&self, fault: InjectedFault) {
        let counter = match fault {
            InjectedFault::Unavailable => &self.unavailable,
            InjectedFault::RateLimited => &self.rate_limited,
            InjectedFault::FailedAfterCommit => &self.failed_after_commit,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one asset call (any operation but the token exchange) that arrived at `arrived` and was
    /// answered at `answered`, injected latency and faults included.
    pub fn record_asset_call(&self, arrived: Instant, answered: Instant) {
        let mut window = self
            .asset_window
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        window.first_arrival = Some(
            window
                .first_arrival
                .map_or(arrived, |first| first.min(arrived)),
        );
        window.last_answer = Some(
            window
                .last_answer
                .map_or(answered, |last| last.max(answered)),
        );
    }

    /// The time from the first asset call's arrival to the last one's answer since the previous call of
    /// this method (or the start), and starts a new window. `None` when no asset call was made.
    pub fn take_asset_window(&self) -> Option<Duration> {
        let mut window = self
            .asset_window
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let taken = std::mem::take(&mut *window);
        Some(
            taken
                .last_answer?
                .saturating_duration_since(taken.first_arrival?),
        )
    }

    /// The counters as JSON; the caller adds what lives elsewhere (tokens, registries).
    pub fn to_json(&self) -> serde_json::Value {
        let operations: serde_json::Map<String, serde_json::Value> = Operation::ALL
            .iter()
            .map(|operation| {
                let count = self.operations[operation.index()].load(Ordering::Relaxed);
                (operation.name().to_string(), count.into())
            })
            .collect();
        serde_json::json!({
            "total_requests": self.total_requests.load(Ordering::Relaxed),
            "operations": operations,
            "injected": {
                "unavailable": self.unavailable.load(Ordering::Relaxed),
                "rate_limited": self.rate_limited.load(Ordering::Relaxed),
                "fail_after_commit": self.failed_after_commit.load(Ordering::Relaxed),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_up_under_their_names() {
        let stats = Stats::default();
        stats.count_request();
        stats.count_operation(Operation::CreateRegistry);
        stats.count_operation(Operation::CreateRegistry);
        stats.count_fault(InjectedFault::RateLimited);
        let json = stats.to_json();
        assert_eq!(json["total_requests"], 1);
        assert_eq!(json["operations"]["create_registry"], 2);
        assert_eq!(json["operations"]["token"], 0);
        assert_eq!(json["injected"]["rate_limited"], 1);
        assert_eq!(json["injected"]["unavailable"], 0);
    }

    #[test]
    fn the_asset_window_spans_the_first_arrival_to_the_last_answer_and_restarts_when_taken() {
        let stats = Stats::default();
        assert_eq!(stats.take_asset_window(), None);
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // Overlapping calls recorded out of order, as concurrent requests finish.
        stats.record_asset_call(at(20), at(90));
        stats.record_asset_call(at(10), at(60));
        stats.record_asset_call(at(30), at(50));
        assert_eq!(stats.take_asset_window(), Some(Duration::from_millis(80)));
        assert_eq!(stats.take_asset_window(), None);
        stats.record_asset_call(at(100), at(150));
        assert_eq!(stats.take_asset_window(), Some(Duration::from_millis(50)));
    }
}
