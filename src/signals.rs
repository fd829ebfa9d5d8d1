//! SIGINT and SIGTERM for servers: blocked in every thread, and waited for by
//! one thread with `sigwait(3)`, which then stops the event loop. Nothing runs
//! in a signal handler.

use std::io;

use sockarc::LoopHandle;

/// Blocks SIGINT and SIGTERM in the calling thread and in the threads it starts
/// from now on. Returns what starts the waiting thread once the loop exists.
///
/// # Errors
/// The error of `pthread_sigmask(3)`.
pub fn block_termination() -> io::Result<impl FnOnce(LoopHandle)> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t for these calls.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(move |handle: LoopHandle| {
        std::thread::spawn(move || {
            let mut signal = 0;
            // SAFETY: `set` and `signal` are valid for the call.
            unsafe { libc::sigwait(&set, &mut signal) };
            let _ = handle.stop();
        });
    })
}
