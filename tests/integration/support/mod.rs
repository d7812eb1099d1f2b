//! Fixtures shared by the integration tests: the emulator, the API client pointed at it, and a
//! Terraform working directory that runs the real CLI against the provider built by this crate.

pub mod terraform;

use std::sync::Arc;

use runai_emulator::{EmulatorConfig, RunningEmulator};
use secrecy::SecretString;
use terraform_provider_runai::client::{
    ApiClient, AssetCreationRequest, ClientConfig, Credentials, RegistryCreationRequest,
    RegistrySpecRequest, RetryPolicy, Scope, CREDENTIAL_KIND_PASSWORD,
};

/// Starts an emulator with its default credentials.
pub fn emulator() -> RunningEmulator {
    emulator_with(EmulatorConfig::default())
}

/// Starts an emulator with the given configuration.
pub fn emulator_with(config: EmulatorConfig) -> RunningEmulator {
    runai_emulator::spawn_in_background(config).expect("the emulator starts")
}

/// A client configuration for the emulator's default application, with quick retries.
pub fn client_config(emulator: &RunningEmulator) -> ClientConfig {
    let defaults = EmulatorConfig::default();
    let mut config = ClientConfig::new(
        emulator.base_url.clone(),
        Credentials::Application {
            client_id: defaults.client_id,
            client_secret: SecretString::from(defaults.client_secret),
        },
    );
    config.retry = RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(100),
        ..RetryPolicy::default()
    };
    config
}

/// A client for the emulator's default application.
pub fn client(emulator: &RunningEmulator) -> Arc<ApiClient> {
    Arc::new(ApiClient::new(client_config(emulator)).expect("the client builds"))
}

/// A valid tenant-scoped creation request.
pub fn creation_request(name: &str) -> RegistryCreationRequest {
    RegistryCreationRequest {
        meta: AssetCreationRequest {
            name: name.to_owned(),
            description: Some("made by a test".into()),
            scope: Scope::Tenant,
            cluster_id: None,
            department_id: None,
            project_id: None,
            workload_supported_types: None,
        },
        spec: RegistrySpecRequest {
            url: "https://registry.example.com".into(),
            credential_kind: CREDENTIAL_KIND_PASSWORD.into(),
            user: "robot".into(),
            password: "registry-password-for-tests".into(),
        },
    }
}

/// A runtime for tests that call the async client from a plain `#[test]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Serves `app` on `listener` from a thread of its own, for the life of the test process: the
/// fake control planes of the tests that need answers the emulator cannot give.
pub fn serve_router(listener: std::net::TcpListener, app: axum::Router) {
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app).await.expect("the server runs");
        });
    });
}

/// Serves `app` on a free loopback port and returns its address.
pub fn serve_router_on_free_port(app: axum::Router) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("its address");
    serve_router(listener, app);
    address
}
