//! Request counters, reported by `GET /_emulator/stats` and [`crate::Emulator::stats`], so tests can check
//! how many calls a client made (for example that it retried, or that it did not re-create).

use std::sync::atomic::{AtomicU64, Ordering};

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

/// Lock-free counters; requests update them concurrently.
#[derive(Default)]
pub struct Stats {
    total_requests: AtomicU64,
    operations: [AtomicU64; Operation::ALL.len()],
    unavailable: AtomicU64,
    rate_limited: AtomicU64,
    failed_after_commit: AtomicU64,
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
}
