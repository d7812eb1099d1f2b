//! Shared helpers: a running emulator plus a small blocking HTTP client that speaks its API.

use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use runai_emulator::{spawn_in_background, EmulatorConfig, RunningEmulator};
use serde_json::{json, Value};

/// An answer of the emulator, with the body parsed as JSON (`Value::Null` for an empty body).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// Asserts the status, showing the body when it differs, and returns the body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self.body
    }

    /// Asserts an error answer in the contract's `Error` shape and returns its message.
    #[track_caller]
    pub fn expect_error(self, status: StatusCode) -> String {
        let body = self.expect(status);
        assert_eq!(
            body["code"],
            status.as_u16(),
            "code must repeat the status: {body}"
        );
        body["message"]
            .as_str()
            .expect("an error has a message")
            .to_string()
    }
}

/// A client of one running emulator, holding an access token.
pub struct Api {
    pub running: RunningEmulator,
    pub http: Client,
    pub token: String,
}

impl Api {
    /// Starts an emulator with the default configuration and logs in.
    pub fn start() -> Api {
        Api::start_with(EmulatorConfig::default())
    }

    /// Starts an emulator with `config` and logs in with its credentials.
    pub fn start_with(config: EmulatorConfig) -> Api {
        let (client_id, client_secret) = (config.client_id.clone(), config.client_secret.clone());
        let running = spawn_in_background(config).expect("the emulator starts");
        let http = Client::new();
        let mut api = Api {
            running,
            http,
            token: String::new(),
        };
        let body = api
            .post_without_auth(
                "/api/v1/token",
                json!({"grantType": "client_credentials", "clientId": client_id, "clientSecret": client_secret}),
            )
            .expect(StatusCode::OK);
        api.token = body["accessToken"]
            .as_str()
            .expect("an access token")
            .to_string();
        api
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token))
    }

    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
    }

    pub fn post_raw(&self, path: &str, body: &'static str) -> Answer {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .body(body),
        )
    }

    pub fn post_without_auth(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(&body))
    }

    pub fn put(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.http
                .put(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
    }

    pub fn delete(&self, path: &str) -> Answer {
        self.send(self.http.delete(self.url(path)).bearer_auth(&self.token))
    }

    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Answer {
        let response = request.send().expect("the emulator answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().expect("a readable body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON body")
        };
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// Creates a registry from `body` and returns the created registry.
    #[track_caller]
    pub fn create(&self, body: Value) -> Value {
        self.post(REGISTRIES, body).expect(StatusCode::CREATED)
    }
}

pub const REGISTRIES: &str = "/api/v1/asset/registries";

/// The path of one registry.
pub fn registry_path(id: &str) -> String {
    format!("{REGISTRIES}/{id}")
}

/// The id of a registry in API JSON.
pub fn id_of(registry: &Value) -> String {
    registry["meta"]["id"]
        .as_str()
        .expect("a registry has an id")
        .to_string()
}

/// A valid tenant-scoped creation request named `name`.
pub fn tenant_registry(name: &str) -> Value {
    json!({
        "meta": {"name": name, "scope": "tenant", "description": "a test registry"},
        "spec": {
            "url": "https://registry.example.com",
            "credentialKind": "password",
            "user": "robot",
            "password": "s3cret-password"
        }
    })
}

/// A valid project-scoped creation request named `name` in project `project_id`.
pub fn project_registry(name: &str, project_id: i32) -> Value {
    let mut body = tenant_registry(name);
    body["meta"]["scope"] = json!("project");
    body["meta"]["projectId"] = json!(project_id);
    body
}

/// An update request for a registry, renaming it to `name`, without a password.
pub fn update_body(name: &str) -> Value {
    json!({
        "meta": {"name": name, "description": "updated"},
        "spec": {"url": "https://other.example.com", "credentialKind": "password", "user": "robot2"}
    })
}
