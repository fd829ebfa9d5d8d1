//! The blocking layer: `CSocket` (stream and datagram), `CSocketFile`, and what
//! makes their calls block with deadlines and cancellation.
//!
//! - [`base`]: the one loop every blocking call goes through (try, wait for
//!   readiness, try again, within the call's deadline, until cancelled);
//! - [`control`]: what a socket shares with its cancel handles and blocked
//!   threads (cancel flag, wakers, timeouts);
//! - [`cancel`]: cancelling a blocked call from another thread;
//! - [`builder`]: creating sockets with an address, family and port;
//! - [`stream`] and [`datagram`]: `CSocket` with `SOCK_STREAM` and `SOCK_DGRAM`;
//! - [`shared_methods`]: the methods both have (addresses, timeouts, buffer
//!   sizes);
//! - [`handles`]: the sockets as the platform's handles (`Attach`, `Detach`);
//! - [`mod@file`]: `CSocketFile`, the stream as `Read`/`Write` for an archive.

pub(crate) mod base;
pub(crate) mod builder;
pub(crate) mod cancel;
pub(crate) mod control;
pub(crate) mod datagram;
pub(crate) mod file;
pub(crate) mod handles;
pub(crate) mod shared_methods;
pub(crate) mod stream;
