//! The event-driven layer: `CAsyncSocket` on an event loop.
//!
//! - [`event_loop`]: the loop (MFC's hidden socket window and its message
//!   queue), the [`Handler`](crate::Handler) it calls, timers and work posted
//!   from other threads;
//! - [`async_socket`]: the socket's id;
//! - [`socket_calls`]: its calls on the loop (`Create`, `Accept`, `Receive`,
//!   `Send`, `AsyncSelect`, …);
//! - [`events`]: the event mask and the notification each event brings;
//! - [`rules`]: `WSAAsyncSelect`'s rules, one state machine per socket;
//! - [`probe`]: the rules' questions to the kernel about one socket;
//! - [`socket_archive`]: archives that read whole messages or wait.

pub(crate) mod async_socket;
pub(crate) mod event_loop;
pub(crate) mod events;
pub(crate) mod probe;
pub(crate) mod rules;
pub(crate) mod socket_archive;
pub(crate) mod socket_calls;
