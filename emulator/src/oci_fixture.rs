//! Test support (feature `oci-fixture`): a real OCI registry, Debian's `docker-registry` (CNCF distribution),
//! started on a free loopback port with basic auth, plus a fast way to push tiny images into it.
//!
//! The provider's tests and the xtask demo reuse this, so it works from both sync and async callers: every
//! blocking HTTP call runs on a plain thread of its own, never on a tokio worker.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};

/// Where Debian's package installs the registry.
const DEFAULT_BINARY: &str = "/usr/bin/docker-registry";

/// The environment variable that overrides [`DEFAULT_BINARY`].
const BINARY_VARIABLE: &str = "RUNAI_TEST_DOCKER_REGISTRY";

/// How long the registry may take to answer `/v2/` after it is started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The media type of the pushed manifests (Docker image manifest v2, schema 2).
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// How many manifests one `push_image` uploads at the same time.
const MANIFEST_UPLOADERS: usize = 4;

/// The configuration blob shared by every pushed image: an image with no layers.
const IMAGE_CONFIG: &str =
    r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;

/// A running `docker-registry` process with htpasswd basic auth; killed on drop.
pub struct OciRegistry {
    /// The registry's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The user allowed in.
    pub user: String,
    /// That user's password.
    pub password: String,
    process: Child,
    /// One client for every push, so connections are reused. It is only used on plain threads (see
    /// [`on_plain_thread`]); dropping it anywhere is fine.
    client: reqwest::blocking::Client,
    /// A repository that already holds the config blob, so later pushes can mount it in one request.
    repository_with_blob: Mutex<Option<String>>,
    // Held for its `Drop`, which deletes the storage, the configuration and the log.
    _directory: tempfile::TempDir,
}

impl OciRegistry {
    /// Starts Debian's `/usr/bin/docker-registry` (path overridable by the environment variable
    /// `RUNAI_TEST_DOCKER_REGISTRY`) on a free loopback port with a temp storage directory and htpasswd
    /// basic auth, and waits until `/v2/` answers.
    pub fn start() -> anyhow::Result<OciRegistry> {
        let binary = std::env::var_os(BINARY_VARIABLE)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BINARY));
        OciRegistry::start_with_binary(&binary)
    }

    /// Like [`OciRegistry::start`], with an explicit path to the `docker-registry` binary.
    pub fn start_with_binary(binary: &Path) -> anyhow::Result<OciRegistry> {
        if !binary.is_file() {
            bail!(
                "the OCI registry binary {} does not exist: install Debian package docker-registry \
                 (apt-get install docker-registry) or set {BINARY_VARIABLE} to its path",
                binary.display()
            );
        }
        let directory = tempfile::Builder::new()
            .prefix("runai-oci-registry-")
            .tempdir()
            .context("creating the registry's temp directory")?;
        let user = "runai-test".to_string();
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 24);
        // The registry checks the hash on every request, so the cheapest bcrypt cost keeps pushes fast.
        let hash = bcrypt::hash(&password, 4).context("hashing the registry password")?;
        std::fs::write(
            directory.path().join("htpasswd"),
            format!("{user}:{hash}\n"),
        )
        .context("writing the htpasswd file")?;

        let client = on_plain_thread(|| {
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
        })
        .context("building the HTTP client")?;

        // Another process may grab the free port between our probe and the registry's bind, so retry.
        let mut last_error = None;
        for _attempt in 0..3 {
            match start_process(binary, directory.path(), &user, &password) {
                Ok((process, url)) => {
                    return Ok(OciRegistry {
                        url,
                        user,
                        password,
                        process,
                        client,
                        repository_with_blob: Mutex::new(None),
                        _directory: directory,
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("at least one attempt was made"))
    }

    /// Pushes a tiny image (a config blob and a schema 2 manifest without layers) to `repository` under each
    /// of `tags`, through the registry's HTTP API.
    pub fn push_image(&self, repository: &str, tags: &[&str]) -> anyhow::Result<()> {
        on_plain_thread(|| {
            let client = &self.client;
            let config_digest = self.push_config_blob(client, repository)?;
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": IMAGE_CONFIG.len(),
                    "digest": config_digest,
                },
                "layers": [],
            })
            .to_string();
            // Each manifest upload waits on the registry's disk writes, so a few in parallel go faster.
            let chunk_size = tags.len().div_ceil(MANIFEST_UPLOADERS).max(1);
            std::thread::scope(|scope| {
                let uploads: Vec<_> = tags
                    .chunks(chunk_size)
                    .map(|chunk| {
                        let manifest = &manifest;
                        scope.spawn(move || {
                            chunk.iter().try_for_each(|tag| {
                                self.push_manifest(client, repository, tag, manifest)
                            })
                        })
                    })
                    .collect();
                uploads.into_iter().try_for_each(|upload| {
                    upload
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
            })
        })
    }

    /// Makes the config blob available in `repository` and returns its digest: mounted from a repository
    /// that has it when possible (one request), uploaded otherwise (two requests).
    fn push_config_blob(
        &self,
        client: &reqwest::blocking::Client,
        repository: &str,
    ) -> anyhow::Result<String> {
        let digest = format!("sha256:{:x}", Sha256::digest(IMAGE_CONFIG.as_bytes()));
        let start_url = format!("{}/v2/{repository}/blobs/uploads/", self.url);
        let mut request = client
            .post(&start_url)
            .basic_auth(&self.user, Some(&self.password));
        let source = lock(&self.repository_with_blob).clone();
        if let Some(source) = &source {
            request = request.query(&[("mount", digest.as_str()), ("from", source.as_str())]);
        }
        let response = request
            .send()
            .with_context(|| format!("starting a blob upload to {repository}"))?;
        if response.status() == reqwest::StatusCode::CREATED {
            return Ok(digest);
        }
        // 202: the mount was not possible (or not asked for), and a regular upload has started instead.
        let response = expect_status(
            response,
            reqwest::StatusCode::ACCEPTED,
            "starting a blob upload",
        )?;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .context("the registry sent no upload Location")?;
        let mut upload_url = reqwest::Url::parse(&start_url)
            .and_then(|base| base.join(location))
            .context("the registry sent an invalid upload Location")?;
        upload_url.query_pairs_mut().append_pair("digest", &digest);
        let response = client
            .put(upload_url)
            .basic_auth(&self.user, Some(&self.password))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(IMAGE_CONFIG)
            .send()
            .with_context(|| format!("finishing a blob upload to {repository}"))?;
        expect_status(
            response,
            reqwest::StatusCode::CREATED,
            "finishing a blob upload",
        )?;
        lock(&self.repository_with_blob).get_or_insert_with(|| repository.to_string());
        Ok(digest)
    }

    fn push_manifest(
        &self,
        client: &reqwest::blocking::Client,
        repository: &str,
        tag: &str,
        manifest: &str,
    ) -> anyhow::Result<()> {
        let response = client
            .put(format!("{}/v2/{repository}/manifests/{tag}", self.url))
            .basic_auth(&self.user, Some(&self.password))
            .header(reqwest::header::CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
            .body(manifest.to_string())
            .send()
            .with_context(|| format!("pushing the manifest {repository}:{tag}"))?;
        expect_status(
            response,
            reqwest::StatusCode::CREATED,
            &format!("pushing {repository}:{tag}"),
        )?;
        Ok(())
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Writes a configuration for a free port, starts the registry and waits until it answers.
fn start_process(
    binary: &Path,
    directory: &Path,
    user: &str,
    password: &str,
) -> anyhow::Result<(Child, String)> {
    let port = free_port()?;
    let address = format!("127.0.0.1:{port}");
    let quoted = |path: PathBuf| serde_json::to_string(&path).expect("paths serialize to JSON");
    // JSON strings are valid YAML strings, which makes quoting the paths safe whatever they contain.
    let config = format!(
        "version: 0.1\n\
         log:\n  level: error\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n\
         http:\n  addr: {address}\n  secret: {secret}\n\
         auth:\n  htpasswd:\n    realm: runai-emulator-test\n    path: {htpasswd}\n\
         catalog:\n  maxentries: 1000\n",
        storage = quoted(directory.join("storage")),
        secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 32),
        htpasswd = quoted(directory.join("htpasswd")),
    );
    let config_path = directory.join("config.yml");
    std::fs::write(&config_path, config).context("writing the registry configuration")?;
    let log_path = directory.join("registry.log");
    let log = File::create(&log_path).context("creating the registry log")?;

    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("sharing the registry log")?)
        .stderr(log);
    // `REGISTRY_*` variables override the configuration file; none from the caller may leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGISTRY_") {
            command.env_remove(name);
        }
    }
    let mut process = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;

    let url = format!("http://{address}");
    match wait_until_ready(&mut process, &url, user, password) {
        Ok(()) => Ok((process, url)),
        Err(error) => {
            let _ = process.kill();
            let _ = process.wait();
            let mut log_text = String::new();
            let _ = File::open(&log_path).and_then(|mut file| file.read_to_string(&mut log_text));
            Err(error.context(format!("the registry log says:\n{log_text}")))
        }
    }
}

/// Polls `GET /v2/` with this registry's own credentials until it answers 200, or fails. Another
/// registry that happened to take the same port would refuse these credentials, so a success proves
/// that this process is the one listening.
fn wait_until_ready(
    process: &mut Child,
    url: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<()> {
    let probe_url = format!("{url}/v2/");
    on_plain_thread(|| {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the HTTP client")?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = process
                .try_wait()
                .context("checking the registry process")?
            {
                bail!("the registry exited early with {status}");
            }
            if let Ok(response) = client
                .get(&probe_url)
                .basic_auth(user, Some(password))
                .send()
            {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("the registry did not answer {probe_url} within {STARTUP_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

/// Passes `response` on if it has the `expected` status, or fails with the registry's explanation.
fn expect_status(
    response: reqwest::blocking::Response,
    expected: reqwest::StatusCode,
    action: &str,
) -> anyhow::Result<reqwest::blocking::Response> {
    if response.status() == expected {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().unwrap_or_default();
    bail!("{action}: the registry answered {status} instead of {expected}: {body}")
}

/// The lock never guards a half-done change, so a poisoned one is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A loopback port that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("probing for a free port")?;
    Ok(listener
        .local_addr()
        .context("reading the probed port")?
        .port())
}

/// Runs `work` on a plain thread and waits for it: `reqwest::blocking` panics on a tokio worker thread, and
/// callers of this fixture may be async tests.
fn on_plain_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
