//! Log lines that reach Terraform's own log (`TF_LOG`).
//!
//! Terraform's plugin host (go-plugin) reads a provider's stderr line by line: a line that is an hclog
//! JSON object (`@level`, `@message` and key/value pairs) is logged at its own level, anything else at
//! DEBUG. So a JSON line per event is all it takes for `TF_LOG=DEBUG` to show every API call. This
//! module writes those lines directly rather than installing a global `tracing` subscriber, because
//! tf-provider installs one itself when `PLUGIN_LOG_FILE` is set and a second would make it panic.
//!
//! Only values chosen by the caller are logged; callers never pass a body or a header value.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

/// Whether lines are written. Only the provider binary turns this on: the library's own tests and
/// tools that embed the client keep a quiet stderr.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns logging to stderr on, for the provider process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// The hclog levels Terraform understands.
#[derive(Clone, Copy, Debug)]
pub enum Level {
    Debug,
    Warn,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Warn => "warn",
        }
    }
}

/// Writes one hclog JSON line to stderr with `message` and the given fields.
pub fn event(level: Level, message: &str, fields: &[(&str, Value)]) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut object = Map::with_capacity(fields.len() + 3);
    object.insert("@level".into(), Value::from(level.as_str()));
    object.insert("@message".into(), Value::from(message));
    object.insert("@module".into(), Value::from("runai"));
    for (key, value) in fields {
        object.insert((*key).to_owned(), value.clone());
    }
    let line = Value::Object(object).to_string();
    // A failed write to stderr cannot be reported anywhere better, so it is ignored; `eprintln!`
    // would panic instead, and logging must never take the provider down.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
