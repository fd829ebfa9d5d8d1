//! sockarc-socket's integration tests, in one binary: one module per concept,
//! on loopback only. `sigpipe.rs` stays a binary of its own: it restores the
//! default `SIGPIPE` action for the whole process.

mod archive_resume;
mod cancel;
mod common;
mod datagram;
mod echo;
// Linux only: it raises RLIMIT_NOFILE and reads the server's RSS from /proc.
#[cfg(target_os = "linux")]
mod echo_10k;
mod event_loop;
mod examples;
mod httpsvr;
mod ipv6;
mod notifications;
mod options;
mod peer_reset;
mod sequence;
mod socket_archive;
mod timeouts;
