//! A small client of the OCI distribution API, used to list the repositories and tags of a registry asset
//! live, with the asset's user and password as HTTP basic auth.
//!
//! Both listings are paginated by the registry (`?n=100` plus a `Link: <..>; rel="next"` header), so the
//! client follows the links until the last page.

use std::time::Duration;

use reqwest::header::{HeaderMap, LINK};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::error::ApiError;

/// The page size asked of the registry.
const PAGE_SIZE: u32 = 100;

/// A bound on followed pages, so a registry whose links loop cannot keep a request busy forever.
const MAX_PAGES: usize = 10_000;

/// Builds the one HTTP client shared by every registry call, with timeouts so a dead registry cannot
/// hang an API request.
pub fn build_http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("runai-emulator/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Where a registry is and how to log in to it.
pub struct RegistryAccess<'a> {
    pub url: &'a str,
    pub user: &'a str,
    pub password: &'a str,
}

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Lists every repository of the registry.
pub async fn list_repositories(
    client: &reqwest::Client,
    access: &RegistryAccess<'_>,
) -> Result<Vec<String>, ApiError> {
    let base = base_url(access.url)?;
    let first = join(&base, &format!("v2/_catalog?n={PAGE_SIZE}"), access.url)?;
    let pages: Vec<CatalogPage> = fetch_all_pages(client, access, first, None).await?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.repositories.unwrap_or_default())
        .collect())
}

/// Lists every tag of `repository` in the registry.
pub async fn list_tags(
    client: &reqwest::Client,
    access: &RegistryAccess<'_>,
    repository: &str,
) -> Result<Vec<String>, ApiError> {
    let base = base_url(access.url)?;
    check_repository_name(repository)?;
    // Repository names are paths such as `team/app`; their slashes must stay slashes in the URL.
    let first = join(
        &base,
        &format!("v2/{repository}/tags/list?n={PAGE_SIZE}"),
        access.url,
    )?;
    let pages: Vec<TagsPage> = fetch_all_pages(client, access, first, Some(repository)).await?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.tags.unwrap_or_default())
        .collect())
}

/// Fetches `first` and every page its `Link` headers point to.
///
/// `repository` is set for tag listings, where a 404 means that repository does not exist.
async fn fetch_all_pages<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    access: &RegistryAccess<'_>,
    first: Url,
    repository: Option<&str>,
) -> Result<Vec<T>, ApiError> {
    let shown_url = display_url(access.url);
    let mut pages = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next.take() {
        if pages.len() >= MAX_PAGES {
            return Err(ApiError::bad_request(format!(
                "registry at {shown_url} returned more than {MAX_PAGES} pages; giving up"
            )));
        }
        // Shown in `details`, so a user can retry the exact request by hand.
        let request_description = format!("GET {}", display_url(url.as_str()));
        let response = client
            .get(url.clone())
            .basic_auth(access.user, Some(access.password))
            .send()
            .await
            .map_err(|error| {
                // `without_url` keeps the message to the failure itself; the URL shown is our own.
                ApiError::bad_request(format!(
                    "could not reach registry at {shown_url}: {}",
                    describe_transport_error(&error.without_url())
                ))
                .with_details(request_description.clone())
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_error(status, &shown_url, access.user, repository)
                .with_details(request_description));
        }
        next = next_page_url(&url, response.headers()).ok_or_else(|| {
            ApiError::bad_request(format!(
                "registry at {shown_url} sent an invalid or foreign Link header"
            ))
        })?;
        let page = response.json::<T>().await.map_err(|error| {
            ApiError::bad_request(format!(
                "registry at {shown_url} sent an unexpected answer: {}",
                error.without_url()
            ))
        })?;
        pages.push(page);
    }
    Ok(pages)
}

/// The next page's URL from the `Link` headers of an answer to `current`: `Some(None)` on the last page,
/// `None` when the link is unusable.
fn next_page_url(current: &Url, headers: &HeaderMap) -> Option<Option<Url>> {
    let Some(link) = headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(next_link)
    else {
        return Some(None);
    };
    let next = current.join(&link).ok()?;
    // Following a link to another origin would hand the credentials to another server.
    (next.origin() == current.origin()).then_some(Some(next))
}

/// The API error for a non-success answer of the registry.
fn status_error(
    status: StatusCode,
    shown_url: &str,
    user: &str,
    repository: Option<&str>,
) -> ApiError {
    let message = match (status, repository) {
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => format!(
            "registry at {shown_url} refused the credentials of user {user:?} (HTTP {})",
            status.as_u16()
        ),
        (StatusCode::NOT_FOUND, Some(repository)) => {
            format!("repository {repository:?} was not found in registry at {shown_url}")
        }
        (StatusCode::NOT_FOUND, None) => {
            format!("registry at {shown_url} does not offer the catalog API (HTTP 404)")
        }
        _ => format!("registry at {shown_url} answered HTTP {}", status.as_u16()),
    };
    ApiError::bad_request(message)
}

/// A short reason for a failed request, e.g. "connection refused" or "timed out".
fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_string();
    }
    // The innermost cause says the most ("Connection refused", "dns error: ...").
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Checks a repository name against the distribution spec's grammar (simplified: lowercase letters,
/// digits, `.`, `_`, `-`, and `/` between non-empty components), so it cannot alter the request URL.
fn check_repository_name(repository: &str) -> Result<(), ApiError> {
    let valid_characters = repository.chars().all(|character| {
        character.is_ascii_lowercase() || character.is_ascii_digit() || "._-/".contains(character)
    });
    let valid_components = repository
        .split('/')
        .all(|component| !component.is_empty() && !component.starts_with('.'));
    if valid_characters && valid_components {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "repository: {repository:?} is not a valid repository name"
        )))
    }
}

/// The asset URL as a base URL: `https://` when no scheme is given, and ending in exactly one `/`.
fn base_url(url: &str) -> Result<Url, ApiError> {
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let with_slash = format!("{}/", with_scheme.trim_end_matches('/'));
    let parsed = Url::parse(&with_slash).map_err(|error| {
        ApiError::bad_request(format!(
            "registry url {:?} is not a valid URL: {error}",
            display_url(url)
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!(
            "registry url {:?} must use http or https",
            display_url(url)
        )));
    }
    Ok(parsed)
}

fn join(base: &Url, relative: &str, original: &str) -> Result<Url, ApiError> {
    base.join(relative).map_err(|error| {
        ApiError::bad_request(format!(
            "cannot build a request URL for registry {}: {error}",
            display_url(original)
        ))
    })
}

/// The URL as shown in messages: without any `user:password@` part someone may have put in it.
fn display_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", strip_user_info(rest)),
        None => strip_user_info(url).to_string(),
    }
}

fn strip_user_info(authority_and_path: &str) -> &str {
    let authority_end = authority_and_path
        .find('/')
        .unwrap_or(authority_and_path.len());
    match authority_and_path[..authority_end].rfind('@') {
        Some(at) => &authority_and_path[at + 1..],
        None => authority_and_path,
    }
}

/// The target of the `rel="next"` entry of a `Link` header value (RFC 8288), if any.
fn next_link(header_value: &str) -> Option<String> {
    header_value.split(',').find_map(|entry| {
        let (target, parameters) = entry.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let is_next = parameters.split(';').any(|parameter| {
            let Some((name, value)) = parameter.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel == "next")
        });
        is_next.then(|| target.to_string())
    })
}

/// Keeps the names that contain `search` (all of them when there is no search).
pub fn filter_by_search(names: Vec<String>, search: Option<&str>) -> Vec<String> {
    match search {
        Some(search) if !search.is_empty() => names
            .into_iter()
            .filter(|name| name.contains(search))
            .collect(),
        _ => names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_defaults_to_https_and_normalizes_the_slash() {
        assert_eq!(
            base_url("registry.example.com").unwrap().as_str(),
            "https://registry.example.com/"
        );
        assert_eq!(
            base_url("http://127.0.0.1:5000/").unwrap().as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            base_url("https://host/prefix")
                .unwrap()
                .join("v2/_catalog")
                .unwrap()
                .as_str(),
            "https://host/prefix/v2/_catalog"
        );
        assert!(base_url("ftp://host").is_err());
    }

    #[test]
    fn next_links_are_found_among_other_relations() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=100>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=100")
        );
        assert_eq!(
            next_link(r#"<https://a/prev>; rel="prev", <https://a/next>; rel=next"#).as_deref(),
            Some("https://a/next")
        );
        assert_eq!(next_link(r#"<https://a/prev>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn shown_urls_never_contain_credentials() {
        assert_eq!(display_url("https://bob:pw@host/x"), "https://host/x");
        assert_eq!(display_url("bob:pw@host"), "host");
        assert_eq!(display_url("https://host/a@b"), "https://host/a@b");
    }

    #[test]
    fn repository_names_cannot_escape_their_path() {
        assert!(check_repository_name("team/app-1.2_x").is_ok());
        for name in ["", "Team/App", "a//b", "../x", "a/..", "a?n=1", "a#b"] {
            assert!(
                check_repository_name(name).is_err(),
                "{name:?} must be rejected"
            );
        }
    }

    #[test]
    fn search_filters_by_substring() {
        let names = vec![
            "team/app".to_string(),
            "team/db".to_string(),
            "other".to_string(),
        ];
        assert_eq!(
            filter_by_search(names.clone(), Some("team/")),
            vec!["team/app", "team/db"]
        );
        assert_eq!(filter_by_search(names.clone(), Some("")), names);
        assert_eq!(filter_by_search(names.clone(), None), names);
    }
}
