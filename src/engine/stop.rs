//! A stop signal that may come from another thread (a Ctrl-C handler) or from the crawl's own
//! caller (an output file that can no longer be written).
//!
//! It is the one piece of the crate that is `Send + Sync`: signal handlers run on their own thread.
//! The engine only waits on it; it never polls a flag in a loop.
//!
//! ```
//! let stop = crawler::Stop::new();
//! let remote = stop.clone();
//! std::thread::spawn(move || remote.stop()).join().unwrap();
//! assert!(stop.is_stopped());
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

/// A cloneable, thread-safe, one-way stop signal.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<StopInner>,
}

#[derive(Debug, Default)]
struct StopInner {
    stopped: AtomicBool,
    waker: AtomicWaker,
}

impl Stop {
    /// A signal not yet given.
    pub fn new() -> Self {
        Stop::default()
    }

    /// Gives the signal (idempotent) and wakes the crawl waiting on it.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        self.inner.waker.wake();
    }

    /// `true` once [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Completes once the signal is given.
    pub fn wait(&self) -> impl Future<Output = ()> + '_ {
        Wait { stop: self }
    }
}

struct Wait<'a> {
    stop: &'a Stop,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.stop.is_stopped() {
            return Poll::Ready(());
        }
        self.stop.inner.waker.register(cx.waker());
        // Checked again after registering, so a stop between the two is not missed.
        if self.stop.is_stopped() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
