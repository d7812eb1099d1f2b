//! Plan-time checks of user input, shared by the resource, the data sources and the provider block.
//!
//! Each check is a plain function over plain values that returns a sentence saying what is wrong and
//! what to do, so that the Terraform layer only has to attach it to an attribute, and the tests can
//! call it directly. The rules mirror the API contract, so that a typo fails at `plan` instead of at
//! the API halfway through an `apply`.

/// The contract's `maxLength` of `AssetDescription`.
pub const MAX_DESCRIPTION_CHARS: usize = 250;

/// A name must hold something other than white space: the contract only asks for one character,
/// but a name of blanks is always a slip, and one that no listing would show legibly.
pub fn non_empty(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// A credential must not be empty (the contract's `minLength: 1`); white space is its own business.
pub fn present(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// The description's length limit, counted in characters as the API counts them.
pub fn description(value: &str) -> Result<(), String> {
    let length = value.chars().count();
    if length > MAX_DESCRIPTION_CHARS {
        Err(format!(
            "must be at most {MAX_DESCRIPTION_CHARS} characters; this one has {length}"
        ))
    } else if value.is_empty() {
        Err("must not be empty; leave description out instead".into())
    } else {
        Ok(())
    }
}

/// A UUID in its canonical text form: hyphenated and lowercase. The contract's `format: uuid` also
/// allows capitals, but a control plane that stores ids in lowercase would answer with another
/// spelling than the configuration's, and Terraform would see a change on every plan.
pub fn uuid(value: &str) -> Result<(), String> {
    match uuid::Uuid::try_parse(value) {
        Ok(parsed) if parsed.hyphenated().to_string() == value => Ok(()),
        Ok(parsed) => Err(format!(
            "must be a UUID in lowercase, hyphenated form: {}; got {value:?}",
            parsed.hyphenated()
        )),
        Err(_) => Err(format!(
            "must be a UUID such as 0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f; got {value:?}"
        )),
    }
}

/// A project id is an int32 in the contract, and Run:ai's are positive.
pub fn project_id(value: i64) -> Result<(), String> {
    if value <= 0 || value > i64::from(i32::MAX) {
        Err(format!(
            "must be a positive project id no larger than {}; got {value}",
            i32::MAX
        ))
    } else {
        Ok(())
    }
}

/// An OCI registry address: a URL with a host (`https://registry.example.com`), or a bare host with
/// an optional port and path (`registry.example.com:5000`), as Run:ai accepts both.
pub fn registry_url(value: &str) -> Result<(), String> {
    let invalid = || {
        Err(format!(
            "must be a registry address such as https://registry.example.com or \
             registry.example.com:5000; got {value:?}"
        ))
    };
    if value.trim() != value || value.is_empty() || value.contains(char::is_whitespace) {
        return invalid();
    }
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|host| !host.is_empty())
                && url.query().is_none() =>
        {
            Ok(())
        }
        _ => invalid(),
    }
}

/// The control plane's base URL must be an absolute http(s) URL with a host.
pub fn base_url(value: &str) -> Result<(), String> {
    match url::Url::parse(value) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|host| !host.is_empty()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "must be the control plane's URL, such as https://<tenant>.run.ai; got {value:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_limited_to_250_characters_not_bytes() {
        assert!(description(&"é".repeat(250)).is_ok());
        assert!(description(&"a".repeat(251))
            .unwrap_err()
            .contains("has 251"));
        assert!(description("").is_err());
    }

    #[test]
    fn uuids_must_be_canonical() {
        assert!(uuid("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f").is_ok());
        assert!(uuid("0b8c8f0e5d1a4c1e9a573f4b1c2d3e4f").is_err());
        assert!(uuid("0B8C8F0E-5D1A-4C1E-9A57-3F4B1C2D3E4F")
            .unwrap_err()
            .contains("0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"));
        assert!(uuid("not-a-uuid").is_err());
    }

    #[test]
    fn registry_urls_take_a_scheme_or_a_bare_host() {
        assert!(registry_url("https://registry.example.com").is_ok());
        assert!(registry_url("registry.example.com:5000/v2").is_ok());
        assert!(registry_url("http://127.0.0.1:5000").is_ok());
        assert!(registry_url("ftp://registry.example.com").is_err());
        assert!(registry_url("https://").is_err());
        assert!(registry_url("has space.example.com").is_err());
        assert!(registry_url("").is_err());
    }

    #[test]
    fn project_ids_are_positive_int32() {
        assert!(project_id(1).is_ok());
        assert!(project_id(0).is_err());
        assert!(project_id(i64::from(i32::MAX) + 1).is_err());
    }

    #[test]
    fn base_urls_need_a_scheme_and_a_host() {
        assert!(base_url("https://acme.run.ai").is_ok());
        assert!(base_url("acme.run.ai").is_err());
        assert!(base_url("https://").is_err());
    }
}
