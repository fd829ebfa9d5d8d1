//! The event loop behind [`AsyncSocket`]s: what MFC's hidden socket window and
//! its message queue do, on `mio` (epoll here).
//!
//! mio reports edges; `WSAAsyncSelect` posts one notification per event and then
//! stays silent until the program re-enables it, when the level is checked again.
//! The loop keeps that state per socket (`posted` flags) and re-checks the level
//! with a zero-timeout `poll(2)` and `FIONREAD` when a call re-enables an event.
//! Notifications go through a queue and are dispatched one at a time, so there
//! are no notifications within notifications: while a socket's handler runs,
//! even one that pumps the loop, that socket's notifications are held for later.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::{Interest, Poll, Token, Waker};

use crate::async_socket::AsyncSocket;
use crate::notify::{Events, Handler};
use crate::sys;

/// The token of the loop's own waker.
const WAKER: Token = Token(usize::MAX);

/// A notification waiting to be dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Note {
    Accept,
    Connect,
    Receive,
    Send,
    OutOfBand,
    Close,
}

struct Queued {
    socket: AsyncSocket,
    note: Note,
    error: Option<io::Error>,
}

/// Where a socket stands, and which notifications are outstanding (posted and
/// not yet re-enabled by the call that re-enables them).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) listening: bool,
    pub(crate) connecting: bool,
    pub(crate) connected: bool,
    pub(crate) read_posted: bool,
    pub(crate) accept_posted: bool,
    pub(crate) oob_posted: bool,
    /// A send answered `WouldBlock`: `on_send` when it can go on.
    pub(crate) write_blocked: bool,
    pub(crate) close_posted: bool,
    pub(crate) peer_closed: bool,
    /// Urgent (out-of-band) data has come in at some point (an `EPOLLPRI`
    /// edge or level), whatever the mask: reads may stop at the urgent mark,
    /// and `FIONREAD` may count only up to it. Never cleared: from then on the
    /// socket pays one `sockatmark(3)` per short read (and per level check
    /// that finds `FIONREAD` at 0); other sockets pay nothing.
    pub(crate) urgent: bool,
}

pub(crate) struct Entry {
    pub(crate) socket: socket2::Socket,
    pub(crate) mask: Events,
    pub(crate) state: State,
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
    waker: Waker,
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
        let waker = Waker::new(poll.registry(), WAKER)?;
        Ok(EventLoop {
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
        let ready: Vec<Ready> = self
            .events
            .iter()
            .map(|e| Ready {
                token: e.token(),
                readable: e.is_readable(),
                writable: e.is_writable(),
                priority: e.is_priority(),
                read_closed: e.is_read_closed(),
                error: e.is_error(),
            })
            .collect();
        for event in ready {
            if event.token != WAKER {
                self.translate(event);
            }
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
        mask: Events,
        state: State,
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
        let interest = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
        let fd = socket.as_raw_fd();
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut mio::unix::SourceFd(&fd), Token(index), interest)
        {
            self.free.push(index);
            return Err(e);
        }
        let slot = &mut self.slots[index];
        slot.entry = Some(Entry {
            socket,
            mask,
            state,
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
        let entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        let fd = entry.socket.as_raw_fd();
        // The descriptor is still open here, so deregistering cannot fail in a
        // way that matters: closing it removes it from epoll anyway.
        let _ = self
            .poll
            .registry()
            .deregister(&mut mio::unix::SourceFd(&fd));
        self.free.push(socket.index());
        Some(entry)
    }

    pub(crate) fn entry(&mut self, socket: AsyncSocket) -> io::Result<&mut Entry> {
        self.slots
            .get_mut(socket.index())
            .filter(|slot| slot.generation == socket.generation())
            .and_then(|slot| slot.entry.as_mut())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the socket is closed"))
    }

    pub(crate) fn post(&mut self, socket: AsyncSocket, note: Note, error: Option<io::Error>) {
        self.queue.push_back(Queued {
            socket,
            note,
            error,
        });
    }

    /// Turns one mio event into the notifications it stands for.
    fn translate(&mut self, event: Ready) {
        let Some(slot) = self.slots.get(event.token.0) else {
            return;
        };
        let socket = AsyncSocket::new(event.token.0, slot.generation);
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        let state = &mut entry.state;
        if state.connecting {
            if !(event.writable || event.error || event.read_closed) {
                return;
            }
            self.finish_connect(socket);
            // Data or a FIN that came with the connect's completion raises no
            // further edge: handle it with this event.
            let Ok(entry) = self.entry(socket) else {
                return;
            };
            if !entry.state.connected {
                return;
            }
        }
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        let state = &mut entry.state;
        if !state.connected && !state.listening {
            // Neither connected nor connecting: an unconnected socket polls as
            // hung up, which is no peer's close.
            return;
        }
        if state.listening {
            if event.readable {
                self.post_accept(socket);
            }
            return;
        }
        if event.priority {
            state.urgent = true;
        }
        if event.error {
            let error = entry.socket.take_error().ok().flatten();
            state.peer_closed = true;
            if error.is_some() {
                self.post_close(socket, error);
                return;
            }
        }
        if event.read_closed {
            state.peer_closed = true;
        }
        if event.readable && !event.read_closed && !event.error {
            // Readable without end of stream: data is there, no need to ask.
            self.post_receive(socket);
        } else if event.readable || event.read_closed {
            self.check_read(socket);
        }
        if event.priority {
            self.post_out_of_band(socket);
        }
        if event.writable {
            self.post_send_if_blocked(socket);
        }
    }

    /// The outcome of a non-blocking connect: `on_connect`, then `on_send`.
    fn finish_connect(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        entry.state.connecting = false;
        let error = match entry.socket.take_error() {
            Ok(error) => error,
            Err(e) => Some(e),
        };
        let mask = entry.mask;
        if error.is_none() {
            entry.state.connected = true;
        }
        let connected = error.is_none();
        if mask.contains(Events::CONNECT) {
            self.post(socket, Note::Connect, error);
        }
        if connected && mask.contains(Events::WRITE) {
            self.post(socket, Note::Send, None);
        }
    }

    /// `FD_ACCEPT` unless one is outstanding.
    pub(crate) fn post_accept(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if entry.mask.contains(Events::ACCEPT) && !entry.state.accept_posted {
            entry.state.accept_posted = true;
            self.post(socket, Note::Accept, None);
        }
    }

    /// `FD_OOB` unless one is outstanding.
    pub(crate) fn post_out_of_band(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if entry.mask.contains(Events::OOB) && !entry.state.oob_posted {
            entry.state.oob_posted = true;
            self.post(socket, Note::OutOfBand, None);
        }
    }

    /// `FD_WRITE` after a send that would have blocked.
    fn post_send_if_blocked(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if entry.state.write_blocked && entry.mask.contains(Events::WRITE) {
            entry.state.write_blocked = false;
            self.post(socket, Note::Send, None);
        }
    }

    /// `FD_CLOSE`, once.
    pub(crate) fn post_close(&mut self, socket: AsyncSocket, error: Option<io::Error>) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if entry.mask.contains(Events::CLOSE) && !entry.state.close_posted {
            entry.state.close_posted = true;
            self.post(socket, Note::Close, error);
        }
    }

    /// `FD_READ` unless one is outstanding.
    fn post_receive(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if entry.mask.contains(Events::READ) && !entry.state.read_posted {
            entry.state.read_posted = true;
            self.post(socket, Note::Receive, None);
        }
    }

    /// The level check of `FD_READ` and `FD_CLOSE`: unread data means
    /// `on_receive` (unless one is outstanding); none, with the peer gone, means
    /// `on_close` (there is no `FD_READ` for end of stream).
    pub(crate) fn check_read(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        let unread = unread_data(entry);
        self.check_read_with(socket, unread);
    }

    /// [`check_read`](Self::check_read) with [`unread_data`]'s answer in hand.
    fn check_read_with(&mut self, socket: AsyncSocket, unread: io::Result<bool>) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        match unread {
            Ok(true) => {
                if entry.mask.contains(Events::READ) && !entry.state.read_posted {
                    entry.state.read_posted = true;
                    self.post(socket, Note::Receive, None);
                }
                return;
            }
            Ok(false) => {}
            // The peek at the urgent mark took the connection's error.
            Err(error) => {
                entry.state.peer_closed = true;
                self.post_close(socket, Some(error));
                return;
            }
        }
        let fd = entry.socket.as_raw_fd();
        if !entry.state.peer_closed {
            match sys::readiness_now(fd) {
                Ok(now) if now.hang_up || now.readable => entry.state.peer_closed = true,
                _ => return,
            }
        }
        let error = entry.socket.take_error().ok().flatten();
        self.post_close(socket, error);
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
        let wanted = match note {
            Note::Accept => Events::ACCEPT,
            Note::Connect => Events::CONNECT,
            Note::Receive => Events::READ,
            Note::Send => Events::WRITE,
            Note::OutOfBand => Events::OOB,
            Note::Close => Events::CLOSE,
        };
        if !entry.mask.contains(wanted) {
            match note {
                Note::Receive => entry.state.read_posted = false,
                Note::Accept => entry.state.accept_posted = false,
                Note::OutOfBand => entry.state.oob_posted = false,
                // Undelivered: a later re-select may post it again.
                Note::Close => entry.state.close_posted = false,
                _ => {}
            }
            return 0;
        }
        // MFC's filter: no on_receive unless data is really there; likewise no
        // on_accept unless a connection really waits. Only a receive (or accept)
        // made after the notification was queued can have taken it; that call
        // cleared the posted flag, so only then is the check needed.
        let fd = entry.socket.as_raw_fd();
        if note == Note::Receive && !entry.state.read_posted {
            let unread = unread_data(entry);
            if !matches!(unread, Ok(true)) {
                self.check_read_with(socket, unread);
                return 0;
            }
        }
        if note == Note::Accept
            && !entry.state.accept_posted
            && !sys::readiness_now(fd).is_ok_and(|now| now.readable)
        {
            return 0;
        }
        let Some(mut handler) = entry.handler.take() else {
            // The socket's handler is running and pumps the loop: hold the
            // notification until it returns. Dropping it would leave its
            // posted flag set, and the notification would never come again.
            self.held.push(Queued {
                socket,
                note,
                error,
            });
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

/// Whether unread stream data waits (`ioctl(FIONREAD)`).
///
/// While out-of-band data is not inline, Linux's `FIONREAD` counts only the bytes
/// before the urgent mark: at the mark it says 0 however much follows. So on a
/// socket that has had urgent data and sits at the mark (`sockatmark(3)`), a
/// one-byte `recv(2)` with `MSG_PEEK` looks past it: `Ok(false)` for nothing
/// there or end of stream, and the connection's error (which the peek takes) as
/// `Err`.
fn unread_data(entry: &Entry) -> io::Result<bool> {
    let fd = entry.socket.as_raw_fd();
    if sys::bytes_available(fd).unwrap_or(0) > 0 {
        return Ok(true);
    }
    if !entry.state.urgent || !sys::at_urgent_mark(fd).unwrap_or(true) {
        return Ok(false);
    }
    let mut byte = [std::mem::MaybeUninit::uninit()];
    loop {
        match entry.socket.peek(&mut byte) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

/// What one mio event said, copied out so the loop can be mutated.
#[derive(Debug, Clone, Copy)]
struct Ready {
    token: Token,
    readable: bool,
    writable: bool,
    priority: bool,
    read_closed: bool,
    error: bool,
}
