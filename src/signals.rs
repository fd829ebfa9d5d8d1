//! Stopping a server cleanly when its user asks: on Unix, SIGINT and SIGTERM,
//! blocked in every thread and waited for by one thread with `sigwait(3)`,
//! which then stops the event loop (nothing runs in a signal handler); on
//! Windows, Ctrl-C, Ctrl-Break and closing the console, through
//! `SetConsoleCtrlHandler`, whose handler runs on a thread of its own.

use std::io;

use sockarc::LoopHandle;

/// Blocks SIGINT and SIGTERM in the calling thread and in the threads it starts
/// from now on. Returns what starts the waiting thread once the loop exists.
///
/// # Errors
/// The error of `pthread_sigmask(3)`.
#[cfg(unix)]
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

/// The loop the console control handler stops.
#[cfg(windows)]
static STOP: std::sync::OnceLock<LoopHandle> = std::sync::OnceLock::new();

/// Runs on a thread the system starts for the console event.
#[cfg(windows)]
unsafe extern "system" fn on_console_event(event: u32) -> windows_sys::core::BOOL {
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT};
    if !matches!(event, CTRL_C_EVENT | CTRL_BREAK_EVENT | CTRL_CLOSE_EVENT) {
        return 0;
    }
    match STOP.get() {
        Some(handle) => {
            let _ = handle.stop();
            1
        }
        None => 0,
    }
}

/// Returns what installs the console control handler once the loop exists:
/// Ctrl-C, Ctrl-Break and closing the console then stop it.
///
/// # Errors
/// None here; installing the handler later can fail, and is then logged.
#[cfg(windows)]
pub fn block_termination() -> io::Result<impl FnOnce(LoopHandle)> {
    Ok(|handle: LoopHandle| {
        if STOP.set(handle).is_err() {
            return;
        }
        // SAFETY: `on_console_event` is a valid handler for the life of the
        // process; `1` adds it.
        if unsafe {
            windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_console_event), 1)
        } == 0
        {
            tracing::warn!(
                "Ctrl-C will not stop the server cleanly: {}",
                io::Error::last_os_error()
            );
        }
    })
}
