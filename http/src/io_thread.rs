//! The thread [`SurfTransport`](super::SurfTransport)'s fetches run on, beside the engine's.
//!
//! The engine runs on one thread, and the crawl's own CPU work stays there: link extraction,
//! URL resolution, dedup, scheduling. A fetch's work is the transport's: writing the request,
//! reading and parsing the response head, reading, decoding and capping the body, the socket
//! syscalls under all of it. Moving that here cut the engine thread's CPU by more than a
//! quarter on the 2,000-page bench site (BENCHMARKS.md, "The fetch thread"), so each fetch runs
//! as a task on one other thread (this one), and the engine awaits its result. The engine never
//! knows: it still awaits one `fetch` future per request, and `crawler-sim` runs the same engine
//! on one thread.
//!
//! One thread with its own executor, not async-std's pool, which measured slower with two
//! threads and with one (BENCHMARKS.md): two fetch threads compete with each other, with the
//! engine's thread and with the server for two cores, and give glibc's allocator one more arena
//! to lock across threads.
//!
//! Dropping the future [`IoThread::run`] returns (the engine's own timeout, Ctrl-C) drops the
//! task, which cancels the fetch on this thread: its connection is closed, never pooled half
//! read. A fetch that panics is caught and comes back as an error for that request, so one bad
//! response can neither kill the thread nor leave the engine waiting forever. The thread stops
//! when the transport is dropped.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_executor::Executor;
use futures_util::FutureExt;
use futures_util::future::{AbortHandle, Abortable};

/// The fetch thread and the executor it runs.
pub(super) struct IoThread {
    executor: Arc<Executor<'static>>,
    stop: AbortHandle,
    thread: Option<JoinHandle<()>>,
}

impl IoThread {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<IoThread> {
        let executor = Arc::new(Executor::new());
        let (stop, registration) = AbortHandle::new_pair();
        let on_thread = Arc::clone(&executor);
        let thread = std::thread::Builder::new()
            .name("crawl-fetch".into())
            .spawn(move || {
                // `async_io::block_on` also drives the reactor while the executor is idle, so
                // readiness events reach the fetches without a hop through async-io's thread.
                let until_stopped = Abortable::new(std::future::pending::<()>(), registration);
                let _ = async_io::block_on(on_thread.run(until_stopped));
            })?;
        Ok(IoThread {
            executor,
            stop,
            thread: Some(thread),
        })
    }

    /// Runs `fetch` on the thread and waits for its output; `Err` with the panic's message if
    /// it panicked. Dropping the returned future cancels the fetch.
    pub(super) fn run<T, F>(&self, fetch: F) -> impl Future<Output = Result<T, String>> + use<T, F>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        self.executor
            .spawn(AssertUnwindSafe(fetch).catch_unwind())
            .map(|result| result.map_err(|panic| panic_message(&*panic)))
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        self.stop.abort();
        if let Some(thread) = self.thread.take() {
            // Nothing on the thread blocks (sockets, timers and DNS are all asynchronous), so
            // it ends as soon as it sees the abort. Fetches still queued are dropped with the
            // executor. (Dropped by a fetch on the thread itself, it cannot wait for itself.)
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_another_thread_and_catches_panics() {
        let io = IoThread::start().unwrap();
        let here = std::thread::current().id();
        let there = async_io::block_on(io.run(async { std::thread::current().id() })).unwrap();
        assert_ne!(here, there);
        let panicked = async_io::block_on(io.run(async move {
            if there != here {
                panic!("bad response");
            }
        }));
        assert_eq!(panicked, Err("bad response".to_string()));
        // Still running after the panic.
        assert_eq!(async_io::block_on(io.run(async { 7 })), Ok(7));
    }

    #[test]
    fn dropping_the_future_cancels_the_fetch() {
        let io = IoThread::start().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        struct Dropped(std::sync::mpsc::Sender<()>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let guard = Dropped(tx);
        let fetch = io.run(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        drop(fetch);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the fetch was dropped on its thread");
    }
}
