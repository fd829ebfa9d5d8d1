//! The loop itself: periodic timers, work posted from other threads, stopping.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sockarc::EventLoop;

#[test]
fn a_timer_repeats_until_killed() {
    let mut ev = EventLoop::new().unwrap();
    let fired = Rc::new(RefCell::new(0));
    let count = Rc::clone(&fired);
    let id = ev.set_timer(Duration::from_millis(2), move |_, _| {
        *count.borrow_mut() += 1;
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while *fired.borrow() < 3 {
        assert!(
            Instant::now() < deadline,
            "the timer stopped at {}",
            fired.borrow()
        );
        ev.run_once(Some(Duration::from_millis(50))).unwrap();
    }
    assert!(ev.kill_timer(id));
    assert!(!ev.kill_timer(id), "killed once");
    let before = *fired.borrow();
    ev.run_once(Some(Duration::from_millis(20))).unwrap();
    assert_eq!(*fired.borrow(), before, "a killed timer stays silent");
}

#[test]
fn a_timer_can_kill_itself_and_stop_the_loop() {
    let mut ev = EventLoop::new().unwrap();
    let mut ticks = 0;
    ev.set_timer(Duration::from_millis(1), move |ev, id| {
        ticks += 1;
        if ticks == 3 {
            assert!(ev.kill_timer(id));
            ev.stop();
        }
    });
    ev.run().unwrap();
}

#[test]
fn work_posted_from_another_thread_runs_on_the_loop() {
    let mut ev = EventLoop::new().unwrap();
    let handle = ev.handle();
    let (done_tx, done_rx) = mpsc::channel();
    let poster = std::thread::spawn(move || {
        handle
            .post(move |ev| {
                let timer = ev.set_timer(Duration::from_secs(3600), |_, _| {});
                done_tx.send(ev.kill_timer(timer)).unwrap();
                ev.stop();
            })
            .unwrap();
    });
    ev.run().unwrap();
    poster.join().unwrap();
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(5)), Ok(true));
}

#[test]
fn stop_from_another_thread_ends_run() {
    let mut ev = EventLoop::new().unwrap();
    let handle = ev.handle();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    // The loop has nothing to do; only the stop wakes it.
    ev.set_timer(Duration::from_millis(1), move |ev, id| {
        ev.kill_timer(id);
        ready_tx.send(()).unwrap();
    });
    let stopper = std::thread::spawn(move || {
        ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        handle.stop().unwrap();
    });
    ev.run().unwrap();
    stopper.join().unwrap();
}

#[test]
fn a_stop_sent_before_run_is_not_lost() {
    let mut ev = EventLoop::new().unwrap();
    ev.handle().stop().unwrap();
    ev.run().unwrap();
}
