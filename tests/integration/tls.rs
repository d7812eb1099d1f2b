//! TLS: certificates are verified by default, a private CA can be trusted with `ca_certificate`, and
//! `insecure_skip_tls_verify` works but warns. The emulator is put behind a real TLS endpoint whose
//! certificate a test CA signed.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use runai_emulator::RunningEmulator;
use terraform_provider_runai::client::{ApiClient, ApiErrorKind, ClientBuildError};

use crate::support::terraform::Workdir;
use crate::support::{client_config, emulator, runtime};

/// A TLS endpoint in front of a backend, with the PEM of the CA that signed its certificate.
struct TlsProxy {
    base_url: String,
    ca_pem: String,
}

/// Terminates TLS for `localhost` on a free port and forwards the bytes to `backend`.
fn tls_proxy(backend: SocketAddr) -> TlsProxy {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((incoming, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake; that is expected.
                    let Ok(mut tls) = acceptor.accept(incoming).await else {
                        return;
                    };
                    let Ok(mut outgoing) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut outgoing).await;
                });
            }
        });
    });
    TlsProxy {
        base_url: format!("https://localhost:{port}"),
        ca_pem: ca.pem(),
    }
}

fn proxy_for(emulator: &RunningEmulator) -> TlsProxy {
    tls_proxy(emulator.address)
}

#[test]
fn certificates_are_verified_unless_a_ca_is_given_or_verification_is_skipped() {
    let emulator = emulator();
    let proxy = proxy_for(&emulator);
    let runtime = runtime();

    let mut config = client_config(&emulator);
    config.base_url = proxy.base_url.clone();
    config.retry.max_retries = 0;
    let strict = ApiClient::new(config.clone()).unwrap();
    let error = runtime.block_on(strict.list_registries(None)).unwrap_err();
    assert_eq!(error.kind, ApiErrorKind::Transport);
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );

    let mut trusting = config.clone();
    trusting.ca_certificate_pem = Some(proxy.ca_pem.clone());
    let trusting = ApiClient::new(trusting).unwrap();
    assert!(runtime
        .block_on(trusting.list_registries(None))
        .unwrap()
        .is_empty());

    let mut skipping = config.clone();
    skipping.insecure_skip_tls_verify = true;
    let skipping = ApiClient::new(skipping).unwrap();
    assert!(runtime
        .block_on(skipping.list_registries(None))
        .unwrap()
        .is_empty());

    let mut broken = config;
    broken.ca_certificate_pem = Some("-----BEGIN CERTIFICATE-----\nnot base64\n".into());
    assert!(matches!(
        ApiClient::new(broken),
        Err(ClientBuildError::InvalidCaCertificate(_))
    ));
}

#[test]
fn terraform_trusts_a_private_ca_and_warns_when_verification_is_skipped() {
    let emulator = emulator();
    let proxy = proxy_for(&emulator);
    let mut workdir = Workdir::new(&emulator);
    workdir.set_env("RUNAI_BASE_URL", &proxy.base_url);
    std::fs::write(workdir.path().join("ca.pem"), &proxy.ca_pem).unwrap();
    let registry = r#"
data "runai_registry_repositories" "none" {
  registry_id = "0b8c8f0e-5d1a-4c1e-9a57-3f4b1c2d3e4f"
}
"#;
    // Without the CA, the control plane's certificate is refused.
    workdir.write_config(&format!("provider \"runai\" {{}}\n{registry}"));
    let refused = workdir.plan();
    assert_eq!(refused.code, 1);
    assert!(
        refused.output().to_lowercase().contains("certificate"),
        "{}",
        refused.output()
    );

    // With it, the request goes through (and finds no such registry: a 404, not a TLS error).
    workdir.write_config(&format!(
        "provider \"runai\" {{\n  ca_certificate = file(\"ca.pem\")\n}}\n{registry}"
    ));
    let trusted = workdir.plan();
    assert!(trusted.output().contains("404"), "{}", trusted.output());
    assert!(
        !trusted.output().to_lowercase().contains("certificate"),
        "{}",
        trusted.output()
    );

    workdir.write_config(&format!(
        "provider \"runai\" {{\n  insecure_skip_tls_verify = true\n}}\n{registry}"
    ));
    let skipped = workdir.plan();
    assert!(
        skipped
            .output()
            .contains("TLS certificate verification is off"),
        "{}",
        skipped.output()
    );
    assert!(skipped.output().contains("404"), "{}", skipped.output());
}
