//! The gRPC connection Terraform opens to the provider must have Nagle's algorithm off; with it on,
//! every RPC waits about 40 ms for a delayed ACK (see `src/nodelay.rs`).
//!
//! The test does not time anything: it starts the provider binary as Terraform does, connects to the
//! address of its handshake, takes a copy of the provider's accepted socket with `pidfd_getfd`, and
//! reads `TCP_NODELAY` on it. If the fix regresses, the option reads false and the test fails.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A copy of descriptor `fd` of process `pid`, by `pidfd_open` and `pidfd_getfd` (Linux 5.6+).
fn copy_descriptor(pid: u32, fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: plain system calls on integers; a returned descriptor is new and owned by the caller.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) as RawFd;
        if pidfd < 0 {
            return None;
        }
        let pidfd = OwnedFd::from_raw_fd(pidfd);
        let copy = libc::syscall(
            libc::SYS_pidfd_getfd,
            std::os::fd::AsRawFd::as_raw_fd(&pidfd),
            fd,
            0,
        ) as RawFd;
        (copy >= 0).then(|| OwnedFd::from_raw_fd(copy))
    }
}

/// The provider's socket connected to `peer`, found among its descriptors.
fn accepted_socket(pid: u32, peer: SocketAddr) -> Option<OwnedFd> {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    for entry in entries.flatten() {
        let is_socket = std::fs::read_link(entry.path())
            .map(|target| target.to_string_lossy().starts_with("socket:"))
            .unwrap_or(false);
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        if !is_socket {
            continue;
        }
        if let Some(copy) = copy_descriptor(pid, fd) {
            let connected_to_us = socket2::SockRef::from(&copy)
                .peer_addr()
                .ok()
                .and_then(|address| address.as_socket())
                == Some(peer);
            if connected_to_us {
                return Some(copy);
            }
        }
    }
    None
}

#[test]
fn the_providers_grpc_connection_has_tcp_nodelay() {
    let mut provider = Command::new(env!("CARGO_BIN_EXE_terraform-provider-runai"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the provider starts");
    let mut handshake = String::new();
    BufReader::new(provider.stdout.take().unwrap())
        .read_line(&mut handshake)
        .expect("the provider prints its handshake");
    let address = terraform_provider_runai::nodelay::handshake_address(&handshake)
        .unwrap_or_else(|| panic!("not a handshake line: {handshake:?}"));

    let client = TcpStream::connect(address).expect("connects like Terraform");
    let peer = client.local_addr().unwrap();
    let started = Instant::now();
    let socket = loop {
        if let Some(socket) = accepted_socket(provider.id(), peer) {
            break socket;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the provider never accepted the connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let nodelay = socket2::SockRef::from(&socket).nodelay().unwrap();
    provider.kill().ok();
    provider.wait().ok();
    assert!(
        nodelay,
        "TCP_NODELAY is off on the provider's accepted gRPC socket: each RPC will stall ~40 ms"
    );
}
