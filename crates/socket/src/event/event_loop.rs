//! The event loop behind [`AsyncSocket`]s: what MFC's hidden socket window and
//! its message queue do, on `mio` (epoll here).
//!
//! mio reports edges; `WSAAsyncSelect` posts one notification per event and then
//! stays silent until the program re-enables it, when the level is checked again.
//! Those rules are one state machine per socket, [`Rules`]; the loop only feeds
//! it edges and calls and queues what it posts. Notifications go through a queue and are dispatched one at a time, so there
//! are no notifications within notifications: while a socket's handler runs,
//! even one that pumps the loop, that socket's notifications are held for later.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::{Poll, Token, Waker};

use crate::event::async_socket::AsyncSocket;
use crate::event::events::Note;
use crate::event::probe::SocketProbe;
use crate::event::rules::{Post, Ready, Rules};
use crate::sys;

/// The token of the loop's own waker.
const WAKER: Token = Token(usize::MAX);

struct Queued {
    socket: AsyncSocket,
    note: Note,
    error: Option<io::Error>,
}

pub(crate) struct Entry {
    pub(crate) socket: socket2::Socket,
    registration: sys::Registration,
    pub(crate) rules: Rules,
    /// Taken out while one of its methods runs.
    pub(crate) handler: Option<Box<dyn Handler>>,
}

struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

type Task = Box<dyn FnOnce(&mut EventLoop) + Send>;

/// What other threads share with the loop.
struct Remote {
    waker: Arc<Waker>,
    tasks: Mutex<Vec<Task>>,
    stop: AtomicBool,
}

/// A timer's identity (`SetTimer`'s `nIDEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

type TimerCallback = Box<dyn FnMut(&mut EventLoop, TimerId)>;

struct Timer {
    period: Duration,
    due: Instant,
    callback: Option<TimerCallback>,
}

/// An event loop that owns [`AsyncSocket`]s and calls their [`Handler`]s, plus
/// periodic timers (`SetTimer`) and work posted from other threads.
///
/// ```
/// use sockarc::EventLoop;
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// let mut ev = EventLoop::new()?;
/// let mut ticks = 0;
/// ev.set_timer(Duration::from_millis(1), move |ev, id| {
///     ticks += 1;
///     if ticks == 3 {
///         ev.kill_timer(id);
///         ev.stop();
///     }
/// });
/// ev.run()?;
/// # Ok(())
/// # }
/// ```
///
/// # Portability
/// epoll on Linux; mio's kqueue and IOCP back-ends are the way to macOS and
/// Windows, but only Linux is tested.
pub struct EventLoop {
    poll: Poll,
    /// The platform's additions to `poll` (Windows: the urgent-data watch).
    selector: sys::Selector,
    events: mio::Events,
    slots: Vec<Slot>,
    free: Vec<usize>,
    queue: VecDeque<Queued>,
    /// Notifications for sockets whose handler is running: the loop was pumped
    /// from inside it. Back in the queue when it returns.
    held: Vec<Queued>,
    timers: HashMap<TimerId, Timer>,
    schedule: BinaryHeap<Reverse<(Instant, TimerId)>>,
    next_timer: u64,
    remote: Arc<Remote>,
    stopped: bool,
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("sockets", &(self.slots.len() - self.free.len()))
            .field("queued", &self.queue.len())
            .field("timers", &self.timers.len())
            .finish()
    }
}

/// A thread-safe handle to an [`EventLoop`]: post work to it or stop it.
#[derive(Clone)]
pub struct LoopHandle {
    remote: Arc<Remote>,
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle").finish_non_exhaustive()
    }
}

impl LoopHandle {
    /// Runs `task` on the loop's thread, between notifications.
    ///
    /// # Errors
    /// The error of waking the loop (`write(2)` on its eventfd).
    pub fn post(&self, task: impl FnOnce(&mut EventLoop) + Send + 'static) -> io::Result<()> {
        self.remote
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(task));
        self.remote.waker.wake()
    }

    /// Makes [`EventLoop::run`] return after the notification it is dispatching.
    ///
    /// # Errors
    /// The error of waking the loop.
    pub fn stop(&self) -> io::Result<()> {
        self.remote.stop.store(true, Ordering::SeqCst);
        self.remote.waker.wake()
    }
}

impl EventLoop {
    /// A new loop with no sockets.
    ///
    /// # Errors
    /// The error of `epoll_create1(2)` or of creating the waker.
    pub fn new() -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(EventLoop {
            selector: sys::Selector::new(Arc::clone(&waker))?,
            poll,
            events: mio::Events::with_capacity(1024),
            slots: Vec::new(),
            free: Vec::new(),
            queue: VecDeque::new(),
            held: Vec::new(),
            timers: HashMap::new(),
            schedule: BinaryHeap::new(),
            next_timer: 0,
            remote: Arc::new(Remote {
                waker,
                tasks: Mutex::new(Vec::new()),
                stop: AtomicBool::new(false),
            }),
            stopped: false,
        })
    }

    /// A handle other threads can use to post work or stop the loop.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            remote: Arc::clone(&self.remote),
        }
    }

    /// Makes [`run`](Self::run) return once the current notification is handled.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Dispatches notifications until [`stop`](Self::stop) (here or through a
    /// [`LoopHandle`]). Waits without spinning when nothing happens.
    ///
    /// It may be called from inside a handler, a timer or posted work, as
    /// [`run_once`](Self::run_once) may (same rules); a `stop` then ends that
    /// nested `run` and every `run` it is nested in.
    ///
    /// # Errors
    /// The error of `epoll_wait(2)`.
    pub fn run(&mut self) -> io::Result<()> {
        // A stop posted before this call still counts: it is consumed below.
        self.stopped = false;
        while !self.stopped {
            self.run_once(None)?;
            if self.remote.stop.swap(false, Ordering::SeqCst) {
                self.stopped = true;
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` (forever for `None`) for something to happen, then
    /// dispatches what is ready: socket notifications, due timers, posted work.
    /// Returns how many handler and timer calls were made.
    ///
    /// # Pumping from inside a handler
    /// Handlers, timers and posted work get the loop, so they may pump it (call
    /// `run_once` until something happens, as a modal wait does). That is
    /// allowed, and loses nothing: other sockets' notifications, timers and
    /// posted work are dispatched as usual, but a notification for a socket
    /// whose handler is running (or a timer whose callback is running) is not
    /// delivered inside it; there are no notifications within notifications.
    /// The socket's notifications are held and queued again when its handler
    /// returns, so they arrive on a later turn (MFC's `PumpMessages` keeps them
    /// in its auxiliary queue the same way). A modal wait for the socket's own
    /// data must therefore call [`receive`](Self::receive) itself, not wait for
    /// `on_receive`.
    ///
    /// # Errors
    /// The error of `epoll_wait(2)`.
    pub fn run_once(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut wait = timeout;
        if !self.queue.is_empty() {
            wait = Some(Duration::ZERO);
        }
        if let Some(Reverse((due, _))) = self.schedule.peek() {
            let until = due.saturating_duration_since(Instant::now());
            wait = Some(wait.map_or(until, |w| w.min(until)));
        }
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let woken = self.events.iter().any(|e| e.token() == WAKER);
        let mut ready: Vec<(Token, Ready)> = self
            .events
            .iter()
            .filter(|e| e.token() != WAKER)
            .map(|e| {
                let ready = Ready {
                    readable: e.is_readable(),
                    writable: e.is_writable(),
                    priority: e.is_priority(),
                    read_closed: e.is_read_closed(),
                    error: e.is_error(),
                };
                (e.token(), ready)
            })
            .collect();
        if woken {
            let urgent = Ready {
                priority: true,
                ..Ready::default()
            };
            ready.extend(
                self.selector
                    .urgent()
                    .into_iter()
                    .map(|token| (token, urgent)),
            );
        }
        for (token, ready) in ready {
            let Some(slot) = self.slots.get(token.0) else {
                continue;
            };
            let socket = AsyncSocket::new(token.0, slot.generation);
            self.apply_ready(socket, ready);
        }
        let tasks = std::mem::take(
            &mut *self
                .remote
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let mut calls = 0;
        for task in tasks {
            task(self);
            calls += 1;
        }
        calls += self.fire_timers();
        // Only what is queued now: what these calls queue waits for the next turn.
        for _ in 0..self.queue.len() {
            let Some(queued) = self.queue.pop_front() else {
                break;
            };
            calls += self.dispatch(queued);
        }
        Ok(calls)
    }

    /// Starts a periodic timer (`SetTimer`): `callback` runs every `period` (at
    /// least 1 ms) until [`kill_timer`](Self::kill_timer).
    pub fn set_timer(
        &mut self,
        period: Duration,
        callback: impl FnMut(&mut EventLoop, TimerId) + 'static,
    ) -> TimerId {
        // A zero period would fire without end inside one turn of the loop.
        let period = period.max(Duration::from_millis(1));
        self.next_timer += 1;
        let id = TimerId(self.next_timer);
        let due = Instant::now() + period;
        self.timers.insert(
            id,
            Timer {
                period,
                due,
                callback: Some(Box::new(callback)),
            },
        );
        self.schedule.push(Reverse((due, id)));
        id
    }

    /// Stops a timer (`KillTimer`); `false` if there was none.
    pub fn kill_timer(&mut self, id: TimerId) -> bool {
        self.timers.remove(&id).is_some()
    }

    fn fire_timers(&mut self) -> usize {
        let now = Instant::now();
        let mut calls = 0;
        while let Some(&Reverse((due, id))) = self.schedule.peek() {
            if due > now {
                break;
            }
            self.schedule.pop();
            let Some(timer) = self.timers.get_mut(&id) else {
                continue;
            };
            if timer.due != due {
                continue;
            }
            let Some(mut callback) = timer.callback.take() else {
                continue;
            };
            callback(self, id);
            calls += 1;
            if let Some(timer) = self.timers.get_mut(&id) {
                timer.due = (due + timer.period).max(Instant::now());
                timer.callback = Some(callback);
                self.schedule.push(Reverse((timer.due, id)));
            }
        }
        calls
    }

    // ---- sockets -----------------------------------------------------------

    /// Registers `socket` (non-blocking) and returns its id.
    pub(crate) fn insert(
        &mut self,
        socket: socket2::Socket,
        rules: Rules,
        handler: Box<dyn Handler>,
    ) -> io::Result<AsyncSocket> {
        socket.set_nonblocking(true)?;
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    entry: None,
                });
                self.slots.len() - 1
            }
        };
        let registration = match self
            .selector
            .register(self.poll.registry(), &socket, Token(index))
        {
            Ok(registration) => registration,
            Err(e) => {
                self.free.push(index);
                return Err(e);
            }
        };
        let slot = &mut self.slots[index];
        slot.entry = Some(Entry {
            socket,
            registration,
            rules,
            handler: Some(handler),
        });
        Ok(AsyncSocket::new(index, slot.generation))
    }

    /// Deregisters and closes `socket`; its queued notifications are dropped at
    /// dispatch, since its id no longer matches a live entry.
    pub(crate) fn remove(&mut self, socket: AsyncSocket) -> Option<Entry> {
        let slot = self.slots.get_mut(socket.index())?;
        if slot.generation != socket.generation() {
            return None;
        }
        let mut entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        // The socket is still open here, so deregistering cannot fail in a
        // way that matters: closing it ends the registration anyway.
        let _ = entry.registration.deregister(
            self.poll.registry(),
            &entry.socket,
            Token(socket.index()),
        );
        self.free.push(socket.index());
        Some(entry)
    }

    pub(crate) fn entry(&mut self, socket: AsyncSocket) -> io::Result<&mut Entry> {
        self.slots
            .get_mut(socket.index())
            .filter(|slot| slot.generation == socket.generation())
            .and_then(|slot| slot.entry.as_mut())
            .ok_or_else(closed)
    }

    /// Runs `f`, a call the application makes on `socket`, on the socket's
    /// rules with a probe of the socket and the loop's queue: every call goes
    /// through here. A call is when MFC re-enables a notification, so where a
    /// registration reports a readiness only once until re-armed (Windows),
    /// it is re-armed here.
    ///
    /// # Errors
    /// `NotFound` for a closed socket.
    pub(crate) fn apply<R>(
        &mut self,
        socket: AsyncSocket,
        f: impl FnOnce(&mut Rules, &mut SocketProbe<'_>, &mut Queue<'_>) -> R,
    ) -> io::Result<R> {
        let EventLoop {
            slots, queue, poll, ..
        } = self;
        let entry = slots
            .get_mut(socket.index())
            .filter(|slot| slot.generation == socket.generation())
            .and_then(|slot| slot.entry.as_mut())
            .ok_or_else(closed)?;
        let mut probe = SocketProbe(&entry.socket);
        let mut post = Queue { queue, socket };
        let result = f(&mut entry.rules, &mut probe, &mut post);
        // A socket that cannot be re-armed is gone, and its next call says so.
        let _ = entry
            .registration
            .rearm(poll.registry(), &entry.socket, Token(socket.index()));
        Ok(result)
    }

    /// Feeds a readiness the kernel reported for `socket` to its rules. Not
    /// a call: the registration is not re-armed, so a readiness the
    /// application leaves alone is not reported again and again.
    fn apply_ready(&mut self, socket: AsyncSocket, ready: Ready) {
        let EventLoop { slots, queue, .. } = self;
        let Some(entry) = slots
            .get_mut(socket.index())
            .filter(|slot| slot.generation == socket.generation())
            .and_then(|slot| slot.entry.as_mut())
        else {
            return;
        };
        let mut probe = SocketProbe(&entry.socket);
        let mut post = Queue { queue, socket };
        entry.rules.on_ready(ready, &mut probe, &mut post);
    }

    /// Queues the notifications held while `socket`'s handler ran: they are
    /// dispatched on the next turn.
    fn release_held(&mut self, socket: AsyncSocket) {
        if self.held.is_empty() {
            return;
        }
        let mut index = 0;
        while index < self.held.len() {
            if self.held[index].socket == socket {
                let queued = self.held.remove(index);
                self.queue.push_back(queued);
            } else {
                index += 1;
            }
        }
    }

    /// Calls the handler for one queued notification, if its socket still lives
    /// and still wants it; returns 1 if a handler ran.
    fn dispatch(&mut self, queued: Queued) -> usize {
        let Queued {
            socket,
            note,
            error,
        } = queued;
        let Ok(entry) = self.entry(socket) else {
            return 0;
        };
        if entry.handler.is_none() {
            // The socket's handler is running and pumps the loop: hold the
            // notification until it returns. Dropping it would leave it
            // outstanding, and it would never come again.
            self.held.push(Queued {
                socket,
                note,
                error,
            });
            return 0;
        }
        let deliver = self.apply(socket, |rules, probe, post| {
            rules.before_dispatch(note, probe, post)
        });
        if deliver.ok() != Some(true) {
            return 0;
        }
        let Some(mut handler) = self.entry(socket).ok().and_then(|e| e.handler.take()) else {
            return 0;
        };
        match note {
            Note::Accept => handler.on_accept(self, socket, error),
            Note::Connect => handler.on_connect(self, socket, error),
            Note::Receive => handler.on_receive(self, socket, error),
            Note::Send => handler.on_send(self, socket, error),
            Note::OutOfBand => handler.on_out_of_band_data(self, socket, error),
            Note::Close => handler.on_close(self, socket, error),
        }
        if let Ok(entry) = self.entry(socket) {
            if entry.handler.is_none() {
                entry.handler = Some(handler);
            }
        }
        self.release_held(socket);
        1
    }
}

/// The error for a socket id whose socket is closed.
pub(crate) fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "the socket is closed")
}

/// The loop's queue, as the place one socket's rules post to.
pub(crate) struct Queue<'a> {
    queue: &'a mut VecDeque<Queued>,
    socket: AsyncSocket,
}

impl Post for Queue<'_> {
    fn post(&mut self, note: Note, error: Option<io::Error>) {
        self.queue.push_back(Queued {
            socket: self.socket,
            note,
            error,
        });
    }
}

/// What a socket's owner is told (`CAsyncSocket`'s `On…` overrides). Every method
/// has a default that does nothing, as in MFC.
///
/// Each gets the loop, so it can receive, send, accept, create or close sockets,
/// change masks and set timers, even pump the loop as a modal wait does (see
/// [`EventLoop::run_once`]: the socket's own notifications then wait until the
/// method returns); and the socket it is about. `error` is MFC's
/// `nErrorCode`: `None` for success.
///
/// The rules are `WSAAsyncSelect`'s. After `on_receive`, no other `on_receive`
/// comes until [`EventLoop::receive`] is called on the socket; if data then
/// remains, it comes at once (one receive per notification is the intended use).
/// The same holds for `on_accept` and [`EventLoop::accept`], and for
/// `on_out_of_band_data`. `on_send` comes when the socket connects or is
/// accepted, when [`EventLoop::async_select`] enables it on a writable socket,
/// after a send that would have blocked, once it can go on, and when the
/// connection breaks while a send is blocked (even after `on_close`), so the
/// next send reports the error. `on_connect` and `on_close` come once.
/// `on_close` comes only after every received byte was read, even after a
/// reset: what the peer sent before it comes first as `on_receive`, then
/// `on_close` with `ConnectionReset`. An `accept` that fails for lack of
/// descriptors or memory pauses `on_accept` for 100 ms rather than announcing
/// the same connection again at once. Nothing comes for a socket after it is
/// closed, even if it was queued.
///
/// # Portability
/// On Windows, where mio does not poll for urgent data, each loop has a
/// thread that watches its sockets for it (`WSAPoll`), so
/// `on_out_of_band_data` comes as on Unix. Wine (the Windows test run)
/// reports a reset as end of stream: `on_close` then comes with no error.
#[allow(unused_variables)]
pub trait Handler: 'static {
    /// A connection waits on a listening socket (`OnAccept`).
    fn on_accept(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// A connect finished, successfully or not (`OnConnect`).
    fn on_connect(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Data can be received (`OnReceive`).
    fn on_receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Data can be sent (`OnSend`).
    fn on_send(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Out-of-band data can be received (`OnOutOfBandData`).
    fn on_out_of_band_data(
        &mut self,
        ev: &mut EventLoop,
        socket: AsyncSocket,
        error: Option<io::Error>,
    ) {
    }
    /// The peer closed the connection (`None`) or reset it (`ConnectionReset`)
    /// (`OnClose`).
    fn on_close(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
}

#[cfg(test)]
mod tests;
