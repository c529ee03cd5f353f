//! The keep-alive pool: idle connections by origin, and a cap on connections per origin.
//!
//! Every open connection holds one of its origin's `cap` slots, idle or busy. A request takes an
//! idle connection of its origin if there is one (the most recently used), else a free slot (and
//! connects), else waits in line for either. Only a connection whose response was read to its
//! exact end comes back (see `framing`); every other one is closed where it is dropped and its
//! slot freed, so a half-read body can never reach the next request.
//!
//! Idle connections live in one list, oldest first, at most `max_idle` of them across all
//! origins: putting one more back closes the oldest. That bounds the file descriptors a crawl of
//! many hosts keeps open, and the order is the order of events, never a hash map's.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use rustc_hash::FxHashMap;

use super::conn::{Conn, Endpoint};

/// Connections by origin, shared by every request of one client.
#[derive(Debug)]
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    cap: usize,
    max_idle: usize,
}

#[derive(Debug, Default)]
struct PoolState {
    ids: FxHashMap<Endpoint, u32>,
    origins: Vec<Origin>,
    /// Idle connections, oldest first.
    idle: VecDeque<(u32, Conn)>,
    next_waiter: u64,
}

#[derive(Debug, Default)]
struct Origin {
    /// Connections open (idle or busy), and so slots taken.
    open: usize,
    /// Requests waiting for a slot or an idle connection, first come first served.
    waiters: VecDeque<(u64, Waker)>,
}

/// A slot of an origin, held by a request (with the connection it uses, if any yet). Dropping it
/// closes that connection and frees the slot; [`Checkout::give_back`] pools the connection instead.
#[derive(Debug)]
pub(crate) struct Checkout {
    pool: Arc<Pool>,
    origin: u32,
    /// The connection, once there is one.
    pub conn: Option<Conn>,
    /// The slot went to the pool with the connection.
    pooled: bool,
}

impl Pool {
    /// A pool with at most `cap` connections per origin and `max_idle` idle ones in all.
    pub fn new(cap: usize, max_idle: usize) -> Arc<Pool> {
        Arc::new(Pool {
            state: Mutex::default(),
            cap: cap.max(1),
            max_idle,
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves plain counters behind; keep going with them.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The id of `target`'s origin (scheme, host and port).
    pub fn origin(&self, target: &Endpoint) -> u32 {
        let mut state = self.lock();
        if let Some(&id) = state.ids.get(target) {
            return id;
        }
        let id = state.origins.len() as u32;
        state.origins.push(Origin::default());
        state.ids.insert(target.clone(), id);
        id
    }

    /// Waits for an idle connection of `origin` or a free slot of it.
    pub async fn checkout(self: &Arc<Self>, origin: u32) -> Checkout {
        let mut waiter = Waiter {
            pool: self,
            origin,
            id: None,
        };
        let conn = std::future::poll_fn(|cx| waiter.poll(cx)).await;
        Checkout {
            pool: self.clone(),
            origin,
            conn,
            pooled: false,
        }
    }

    /// Frees a slot of `origin` and lets the next waiter in.
    fn release(&self, state: &mut PoolState, origin: u32) {
        let o = &mut state.origins[origin as usize];
        o.open -= 1;
        if let Some((_, waker)) = o.waiters.pop_front() {
            waker.wake();
        }
    }
}

/// A request waiting in line; leaving the line (dropped) passes a wake-up it received on.
struct Waiter<'a> {
    pool: &'a Arc<Pool>,
    origin: u32,
    /// The ticket while in line.
    id: Option<u64>,
}

impl Waiter<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Conn>> {
        let mut state = self.pool.lock();
        let state = &mut *state;
        if let Some(i) = state.idle.iter().rposition(|(o, _)| *o == self.origin) {
            self.leave(state);
            let (_, conn) = state.idle.remove(i).expect("index from rposition");
            return Poll::Ready(Some(conn));
        }
        let o = &mut state.origins[self.origin as usize];
        if o.open < self.pool.cap {
            o.open += 1;
            self.leave(state);
            return Poll::Ready(None);
        }
        let id = *self.id.get_or_insert_with(|| {
            state.next_waiter += 1;
            state.next_waiter
        });
        let waiters = &mut state.origins[self.origin as usize].waiters;
        match waiters.iter_mut().find(|(w, _)| *w == id) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => waiters.push_back((id, cx.waker().clone())),
        }
        Poll::Pending
    }

    /// Leaves the line, if in it.
    fn leave(&mut self, state: &mut PoolState) {
        if let Some(id) = self.id.take() {
            state.origins[self.origin as usize]
                .waiters
                .retain(|(w, _)| *w != id);
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let mut state = self.pool.lock();
        let waiters = &mut state.origins[self.origin as usize].waiters;
        let before = waiters.len();
        waiters.retain(|(w, _)| *w != id);
        if waiters.len() == before {
            // Woken (and so out of line) but gone before using it: wake the next one instead.
            if let Some((_, waker)) = waiters.pop_front() {
                waker.wake();
            }
        }
    }
}

impl Checkout {
    /// Pools the connection for the next request of its origin (its slot stays taken while it
    /// is idle), closing the oldest idle connection if there are too many.
    pub fn give_back(mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        conn.served += 1;
        let pool = &self.pool;
        let mut state = pool.lock();
        let state = &mut *state;
        state.idle.push_back((self.origin, conn));
        if state.idle.len() > pool.max_idle
            && let Some((origin, oldest)) = state.idle.pop_front()
        {
            drop(oldest);
            pool.release(state, origin);
        }
        if let Some((_, waker)) = state.origins[self.origin as usize].waiters.pop_front() {
            waker.wake();
        }
        self.pooled = true;
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if self.pooled {
            return;
        }
        drop(self.conn.take());
        let mut state = self.pool.lock();
        self.pool.release(&mut state, self.origin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::future::Future;

    fn target(host: &str) -> Endpoint {
        Endpoint::of(&url::Url::parse(&format!("http://{host}/")).unwrap()).unwrap()
    }

    #[test]
    fn slots_are_capped_and_freed() {
        let pool = Pool::new(2, 8);
        let o = pool.origin(&target("a"));
        assert_eq!(pool.origin(&target("a")), o);
        let b = pool.origin(&target("b"));
        assert_ne!(b, o);
        let one = pool.checkout(o).now_or_never().expect("free slot");
        let two = pool.checkout(o).now_or_never().expect("free slot");
        assert!(pool.checkout(o).now_or_never().is_none(), "cap reached");
        // Another origin has its own slots.
        let other = pool.checkout(b).now_or_never().expect("other origin");
        drop(one);
        let three = pool.checkout(o).now_or_never().expect("slot freed by drop");
        assert!(three.conn.is_none());
        drop((two, three, other));
        assert_eq!(pool.lock().origins[o as usize].open, 0);
    }

    #[test]
    fn a_waiter_is_woken_when_a_slot_frees() {
        let pool = Pool::new(1, 8);
        let o = pool.origin(&target("a"));
        let held = pool.checkout(o).now_or_never().unwrap();
        let mut waiting = Box::pin(pool.checkout(o));
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(pool.lock().origins[0].waiters.len(), 1);
        drop(held);
        assert!(pool.lock().origins[0].waiters.is_empty(), "woken");
        assert!(waiting.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_dropped_waiter_leaves_the_line() {
        let pool = Pool::new(1, 8);
        let o = pool.origin(&target("a"));
        let held = pool.checkout(o).now_or_never().unwrap();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = Box::pin(pool.checkout(o));
        let mut second = Box::pin(pool.checkout(o));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(held); // wakes `first`...
        drop(first); // ...which leaves without using it: `second` is woken instead.
        assert!(pool.lock().origins[0].waiters.is_empty());
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }
}
