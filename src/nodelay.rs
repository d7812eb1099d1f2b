//! Turns Nagle's algorithm off for the provider's gRPC connection, which tf-provider 0.2.2 leaves on.
//!
//! With Nagle on, each small gRPC response waits for the peer's delayed ACK: about 40 ms per RPC
//! on Linux, and Terraform makes several RPCs per resource per phase. tf-provider owns the listening
//! socket and never exposes it, so the fix works from the outside, using two facts:
//! - an accepted socket inherits `TCP_NODELAY` from its listening socket when it was set before the
//!   peer connected;
//! - tf-provider binds the listener before it prints the handshake line on stdout, and Terraform can
//!   only connect after reading that line.
//!
//! So stdout is routed through a pipe. A thread reads the handshake line, finds this process's
//! socket bound to the address the line announces, sets `TCP_NODELAY` on it, and only then passes the
//! line on to the real stdout. Whatever goes wrong, the line is passed on unchanged: the fix may be
//! lost, the handshake never.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Routes stdout through the handshake hook. Call it before tf-provider starts serving.
pub fn install_handshake_hook() -> std::io::Result<()> {
    let mut fds: [RawFd; 2] = [0; 2];
    // SAFETY: `pipe` writes two new descriptors into the array, which this function then owns.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created by `pipe` and are owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let stdout = std::io::stdout();
    let _lock = stdout.lock();
    // SAFETY: `dup` returns a new descriptor for the real stdout, owned from here on.
    let real_stdout = unsafe { libc::dup(stdout.as_raw_fd()) };
    if real_stdout < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: just created by `dup`, owned by this `File` alone.
    let real_stdout = unsafe { File::from_raw_fd(real_stdout) };
    // SAFETY: both descriptors are valid; descriptor 1 now refers to the pipe, and the pipe's write
    // end stays open through it after `write_end` is dropped.
    if unsafe { libc::dup2(write_end.as_raw_fd(), stdout.as_raw_fd()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(write_end);
    std::thread::Builder::new()
        .name("handshake-nodelay".into())
        .spawn(move || forward(File::from(read_end), real_stdout))?;
    Ok(())
}

/// Passes every line on to the real stdout, fixing the listener before the first one.
fn forward(pipe: File, mut real_stdout: File) {
    let mut lines = BufReader::new(pipe);
    let mut line = String::new();
    let mut first = true;
    while matches!(lines.read_line(&mut line), Ok(read) if read > 0) {
        if first {
            first = false;
            if let Some(address) = handshake_address(&line) {
                set_nodelay_on_listener(address);
            }
        }
        // If the real stdout is gone, Terraform is gone too; there is nobody left to tell.
        let _ = real_stdout.write_all(line.as_bytes());
        let _ = real_stdout.flush();
        line.clear();
    }
}

/// The address in a go-plugin handshake line: `CORE|PROTOCOL|tcp|ADDRESS|grpc|CERT`.
pub fn handshake_address(line: &str) -> Option<SocketAddr> {
    let mut fields = line.trim_end().split('|');
    let (_core, _protocol, network, address) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if network != "tcp" {
        return None;
    }
    address.parse().ok()
}

/// Finds this process's socket bound to `address` and sets `TCP_NODELAY` on it.
fn set_nodelay_on_listener(address: SocketAddr) -> bool {
    for fd in open_descriptors() {
        // SAFETY: the descriptor is open in this process for the duration of this loop body; the
        // listener belongs to tf-provider, which never closes it while serving.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let bound_here = socket
            .local_addr()
            .ok()
            .and_then(|local| local.as_socket())
            .is_some_and(|local| local == address);
        if bound_here {
            return socket.set_nodelay(true).is_ok();
        }
    }
    false
}

/// The descriptors open in this process: from `/proc/self/fd` where there is one, else a range.
fn open_descriptors() -> Vec<RawFd> {
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .filter(|fd| *fd > 2)
            .collect(),
        Err(_) => (3..1024).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_a_go_plugin_handshake() {
        assert_eq!(
            handshake_address("1|6|tcp|127.0.0.1:41234|grpc|\n"),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        assert_eq!(handshake_address("1|6|unix|/tmp/plugin|grpc|"), None);
        assert_eq!(handshake_address("garbage"), None);
    }

    #[test]
    fn nodelay_is_set_on_the_socket_bound_to_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        assert!(!socket2::SockRef::from(&listener).nodelay().unwrap());
        assert!(set_nodelay_on_listener(address));
        assert!(socket2::SockRef::from(&listener).nodelay().unwrap());
        // Accepted sockets inherit it, which is the whole point.
        let _client = std::net::TcpStream::connect(address).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
