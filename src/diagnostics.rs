//! Building Terraform diagnostics that a person can act on.
//!
//! Diagnostics are constructed field by field instead of through `Diagnostic::new`, because that
//! constructor appends a Rust backtrace whenever `RUST_BACKTRACE` is set, as it is in many users'
//! shells; a user must see the message, never the provider's stack.

use std::borrow::Cow;

use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::client::{ApiError, ApiErrorKind};

/// Adds an error, attached to `attribute` when it is not the root.
pub fn error(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
    attribute: AttributePath,
) {
    diags.add_error(Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute,
    });
}

/// Adds a warning, attached to `attribute` when it is not the root.
pub fn warning(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
    attribute: AttributePath,
) {
    diags.add_warning(Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute,
    });
}

/// The path of a top-level attribute.
pub fn attribute(name: &'static str) -> AttributePath {
    AttributePath::new(name)
}

/// Adds the error of a failed API call, with advice that fits its kind. `action` says what the
/// provider was doing, e.g. "Could not create the registry".
pub fn api_error(diags: &mut Diagnostics, action: &str, error: &ApiError) {
    let advice = match error.kind {
        ApiErrorKind::Conflict => match &error.existing_id {
            Some(id) => format!(
                "\n\nA registry with this name already exists in this scope. To manage it with Terraform, \
                 import it:\n  terraform import <resource address> {id}\nor choose another name."
            ),
            None => "\n\nA registry with this name already exists in this scope: choose another name, \
                     or import the existing one with `terraform import`."
                .to_owned(),
        },
        ApiErrorKind::Unauthorized => {
            "\n\nCheck the credentials: set either token (RUNAI_TOKEN) or client_id and client_secret \
             (RUNAI_CLIENT_ID, RUNAI_CLIENT_SECRET) to an application of this control plane."
                .to_owned()
        }
        ApiErrorKind::Forbidden => {
            "\n\nThe credentials are valid but their role does not allow this operation in this scope."
                .to_owned()
        }
        ApiErrorKind::Unavailable => {
            "\n\nThe control plane is busy or unavailable and retries ran out; try again later, or raise \
             max_retries / retry_timeout_seconds in the provider block."
                .to_owned()
        }
        ApiErrorKind::Transport => {
            "\n\nCheck base_url (RUNAI_BASE_URL) and that the control plane is reachable from here."
                .to_owned()
        }
        _ => String::new(),
    };
    error_root(diags, action.to_owned(), format!("{error}{advice}"));
}

/// Adds an error not attached to any attribute.
pub fn error_root(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
) {
    error(diags, summary, detail, AttributePath::default());
}
