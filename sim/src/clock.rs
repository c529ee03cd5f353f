//! Virtual time: a clock that jumps straight to the next timer.
//!
//! [`VirtualClock`] implements [`crawler::Clock`]. Time stands still while anything is runnable;
//! when nothing is, the executor asks the clock to [fire](VirtualClock::fire_next) the earliest
//! timers, and time jumps to their deadline. An hour of timeouts thus runs in microseconds, and
//! the order of events depends on nothing but the program.
//!
//! Timers are ordered by (deadline, sequence number), so two timers due at the same instant fire
//! in the order they were set, and their wakers are called in that order (which fixes the order
//! in which the engine's `FuturesUnordered` polls its jobs). A timer lives in a slab slot
//! registered on the first poll of its [`Sleep`]; dropping the `Sleep` frees the slot. The heap
//! entry stays behind, but it names the slot with the timer's sequence number, which the slot no
//! longer holds, so it is skipped when it surfaces: a cancelled timer never moves time.
//!
//! Everything is `Rc`/`RefCell`: the simulation runs on one thread and takes no locks.
//!
//! ```
//! use std::time::Duration;
//! use crawler::Clock;
//! use crawler_sim::VirtualClock;
//!
//! let clock = VirtualClock::new();
//! let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! let mut sleep = std::pin::pin!(clock.sleep(Duration::from_secs(5)));
//! assert!(sleep.as_mut().poll(&mut cx).is_pending()); // registers the timer
//! assert!(clock.fire_next());                          // nothing else to do: jump
//! assert_eq!(clock.now(), Duration::from_secs(5));
//! assert!(sleep.as_mut().poll(&mut cx).is_ready());
//! assert!(!clock.fire_next());                         // no timer left
//! ```

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A shared handle on one virtual timeline. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    timers: Rc<RefCell<Timers>>,
}

/// The timeline: the current instant and the pending timers.
#[derive(Debug, Default)]
struct Timers {
    /// Nanoseconds since the origin.
    now: u64,
    /// The next timer's sequence number.
    next_seq: u64,
    /// (deadline, sequence number, slot) of every timer set and not yet surfaced, cancelled
    /// ones included.
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    /// Live timers; a slot holds `VACANT` or the sequence number of the timer occupying it.
    slots: Vec<TimerSlot>,
    /// Free slots, reused first.
    free: Vec<u32>,
    /// Timers registered and neither fired nor cancelled.
    live: usize,
    /// Scratch list of wakers to call once the borrow is released.
    due: Vec<Waker>,
}

#[derive(Debug)]
struct TimerSlot {
    seq: u64,
    waker: Option<Waker>,
}

const VACANT: u64 = u64::MAX;

/// A timer's identity: its slot and the sequence number that must still be there.
#[derive(Debug, Clone, Copy)]
struct TimerKey {
    slot: u32,
    seq: u64,
}

impl Timers {
    fn register(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = TimerSlot {
                    seq,
                    waker: Some(waker),
                };
                slot
            }
            None => {
                self.slots.push(TimerSlot {
                    seq,
                    waker: Some(waker),
                });
                u32::try_from(self.slots.len() - 1).expect("fewer than 4 billion live timers")
            }
        };
        self.heap.push(Reverse((deadline, seq, slot)));
        self.live += 1;
        TimerKey { slot, seq }
    }

    fn is_live(&self, key: TimerKey) -> bool {
        self.slots[key.slot as usize].seq == key.seq
    }

    /// Frees `key`'s slot if the timer is still live; returns its waker.
    fn vacate(&mut self, key: TimerKey) -> Option<Waker> {
        if !self.is_live(key) {
            return None;
        }
        let slot = &mut self.slots[key.slot as usize];
        slot.seq = VACANT;
        let waker = slot.waker.take();
        self.free.push(key.slot);
        self.live -= 1;
        self.compact_if_stale();
        waker
    }

    /// Drops the heap entries of cancelled timers once they outnumber the live ones. Every fetch
    /// sets a timeout that is almost always cancelled long before it is due; left alone, those
    /// entries would pile up for the whole timeout and make every heap operation slower. Rebuilding
    /// costs O(heap) and happens at most once per `live + 64` cancellations, so O(1) amortised.
    /// The order of live entries is untouched: it is fixed by (deadline, sequence number).
    fn compact_if_stale(&mut self) {
        if self.heap.len() > 2 * self.live + 64 {
            let slots = &self.slots;
            self.heap
                .retain(|&Reverse((_, seq, slot))| slots[slot as usize].seq == seq);
        }
    }

    /// The earliest live deadline, discarding cancelled entries on the way.
    fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((deadline, seq, slot))) = self.heap.peek() {
            if self.is_live(TimerKey { slot, seq }) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }
}

impl VirtualClock {
    /// A clock at time zero with no timers.
    pub fn new() -> Self {
        VirtualClock::default()
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.timers.borrow().now)
    }

    /// Timers set and neither fired nor cancelled.
    pub fn live_timers(&self) -> usize {
        self.timers.borrow().live
    }

    /// The deadline of the earliest live timer.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.timers
            .borrow_mut()
            .next_deadline()
            .map(Duration::from_nanos)
    }

    /// Jumps to the earliest live deadline and wakes every timer due then, in the order they
    /// were set. Returns `false` (and leaves time alone) when no timer is live.
    pub fn fire_next(&self) -> bool {
        let mut due = {
            let mut t = self.timers.borrow_mut();
            let Some(deadline) = t.next_deadline() else {
                return false;
            };
            t.now = t.now.max(deadline);
            let mut due = std::mem::take(&mut t.due);
            while let Some(&Reverse((d, seq, slot))) = t.heap.peek() {
                if d != deadline {
                    break;
                }
                t.heap.pop();
                if let Some(waker) = t.vacate(TimerKey { slot, seq }) {
                    due.push(waker);
                }
            }
            due
        };
        // Woken outside the borrow: a waker may be anything, including code that reads the clock.
        for waker in due.drain(..) {
            waker.wake();
        }
        self.timers.borrow_mut().due = due;
        true
    }

    /// A future that completes once virtual time reaches `now() + duration`.
    pub fn sleep(&self, duration: Duration) -> Sleep<'_> {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Sleep {
            clock: self,
            deadline: self.timers.borrow().now.saturating_add(nanos),
            key: None,
        }
    }
}

impl crawler::Clock for VirtualClock {
    fn now(&self) -> Duration {
        VirtualClock::now(self)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        VirtualClock::sleep(self, duration)
    }
}

/// The future of [`VirtualClock::sleep`]. Its timer is set on the first poll (a sleep that is
/// never polled never holds up time) and cancelled when it is dropped.
#[derive(Debug)]
#[must_use = "a sleep does nothing unless polled"]
pub struct Sleep<'a> {
    clock: &'a VirtualClock,
    /// Nanoseconds since the origin.
    deadline: u64,
    key: Option<TimerKey>,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut t = self.clock.timers.borrow_mut();
        if t.now >= self.deadline {
            if let Some(key) = self.key {
                t.vacate(key);
            }
            drop(t);
            self.key = None;
            return Poll::Ready(());
        }
        match self.key {
            Some(key) if t.is_live(key) => {
                let slot = &mut t.slots[key.slot as usize];
                if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    slot.waker = Some(cx.waker().clone());
                }
            }
            _ => {
                let key = t.register(self.deadline, cx.waker().clone());
                drop(t);
                self.key = Some(key);
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.clock.timers.borrow_mut().vacate(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::task::Wake;

    /// A waker that appends its name to a shared log.
    struct Named(&'static str, Arc<Mutex<Vec<&'static str>>>);
    impl Wake for Named {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    fn poll(sleep: Pin<&mut Sleep<'_>>, waker: &Waker) -> bool {
        sleep.poll(&mut Context::from_waker(waker)).is_ready()
    }

    #[test]
    fn ties_fire_in_the_order_the_timers_were_set() {
        let clock = VirtualClock::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let waker = |name| Waker::from(Arc::new(Named(name, log.clone())));
        let mut b = Box::pin(clock.sleep(Duration::from_millis(10)));
        let mut a = Box::pin(clock.sleep(Duration::from_millis(10)));
        let mut early = Box::pin(clock.sleep(Duration::from_millis(3)));
        assert!(!poll(b.as_mut(), &waker("b")));
        assert!(!poll(a.as_mut(), &waker("a")));
        assert!(!poll(early.as_mut(), &waker("early")));
        assert_eq!(clock.live_timers(), 3);
        assert!(clock.fire_next());
        assert_eq!(clock.now(), Duration::from_millis(3));
        assert!(clock.fire_next());
        assert_eq!(clock.now(), Duration::from_millis(10));
        assert_eq!(*log.lock().unwrap(), ["early", "b", "a"]);
        assert!(poll(a.as_mut(), &waker("a")) && poll(b.as_mut(), &waker("b")));
        assert_eq!(clock.live_timers(), 0);
        assert!(!clock.fire_next());
    }

    #[test]
    fn a_dropped_sleep_never_moves_time() {
        let clock = VirtualClock::new();
        let noop = Waker::noop();
        let mut long = Box::pin(clock.sleep(Duration::from_secs(30)));
        assert!(!poll(long.as_mut(), noop));
        let mut short = Box::pin(clock.sleep(Duration::from_secs(1)));
        assert!(!poll(short.as_mut(), noop));
        drop(long);
        assert_eq!(clock.live_timers(), 1);
        assert!(clock.fire_next());
        assert_eq!(clock.now(), Duration::from_secs(1));
        assert!(poll(short.as_mut(), noop));
        // Only the cancelled 30 s entry is left in the heap: it must not count.
        assert_eq!(clock.next_deadline(), None);
        assert!(!clock.fire_next());
        assert_eq!(clock.now(), Duration::from_secs(1));
    }

    #[test]
    fn slots_are_reused_without_confusing_old_entries() {
        let clock = VirtualClock::new();
        let noop = Waker::noop();
        let mut first = Box::pin(clock.sleep(Duration::from_secs(5)));
        assert!(!poll(first.as_mut(), noop));
        drop(first);
        // Same slot, later sequence number, earlier deadline.
        let mut second = Box::pin(clock.sleep(Duration::from_secs(7)));
        assert!(!poll(second.as_mut(), noop));
        assert_eq!(clock.next_deadline(), Some(Duration::from_secs(7)));
        assert!(clock.fire_next());
        assert_eq!(clock.now(), Duration::from_secs(7));
    }

    #[test]
    fn zero_and_elapsed_sleeps_are_ready_at_once_and_set_no_timer() {
        let clock = VirtualClock::new();
        let noop = Waker::noop();
        assert!(poll(Box::pin(clock.sleep(Duration::ZERO)).as_mut(), noop));
        let mut huge = Box::pin(clock.sleep(Duration::MAX));
        assert!(!poll(huge.as_mut(), noop));
        assert_eq!(clock.next_deadline(), Some(Duration::from_nanos(u64::MAX)));
        drop(huge);
        assert_eq!(clock.live_timers(), 0);
    }

    #[test]
    fn cancelled_timers_do_not_pile_up() {
        let clock = VirtualClock::new();
        let noop = Waker::noop();
        let mut keep = Box::pin(clock.sleep(Duration::from_secs(100)));
        assert!(!poll(keep.as_mut(), noop));
        for i in 0..10_000u64 {
            let mut s = Box::pin(clock.sleep(Duration::from_millis(i % 97 + 1)));
            assert!(!poll(s.as_mut(), noop));
        }
        // One live timer: the heap holds it plus at most 2 * live + 64 stale entries.
        assert!(clock.timers.borrow().heap.len() <= 2 + 64 + 1);
        assert_eq!(clock.live_timers(), 1);
        assert!(clock.fire_next());
        assert_eq!(clock.now(), Duration::from_secs(100));
        assert!(poll(keep.as_mut(), noop));
    }

    #[test]
    fn repolling_keeps_one_timer() {
        let clock = VirtualClock::new();
        let noop = Waker::noop();
        let mut s = Box::pin(clock.sleep(Duration::from_secs(1)));
        for _ in 0..3 {
            assert!(!poll(s.as_mut(), noop));
        }
        assert_eq!(clock.live_timers(), 1);
    }
}
