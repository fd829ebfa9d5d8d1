//! The event-driven layer: `CAsyncSocket` on an event loop.
//!
//! - [`event_loop`]: the loop (MFC's hidden socket window and its message
//!   queue), timers and work posted from other threads;
//! - [`async_socket`]: the socket id and its calls (`Create`, `Accept`,
//!   `Receive`, `Send`, `AsyncSelect`, …);
//! - [`notify`]: the notifications and the [`Handler`](crate::Handler) they call;
//! - [`rules`]: `WSAAsyncSelect`'s rules, one state machine per socket;
//! - [`probe`]: the rules' questions to the kernel about one socket;
//! - [`socket_archive`]: archives that read whole messages or wait.

pub(crate) mod async_socket;
pub(crate) mod event_loop;
pub(crate) mod notify;
pub(crate) mod probe;
pub(crate) mod rules;
pub(crate) mod socket_archive;
