//! A single-threaded executor for one top-level future, in virtual time.
//!
//! The simulated crawl is one future (the engine multiplexes its fetches inside it), so the
//! executor needs no task queue: it polls that future whenever it was woken, and only when it
//! was not does it let the [`VirtualClock`] jump to the next timer. Nothing else decides the
//! order of events, so the same program and seed always give the same run.
//!
//! Two liveness guards turn hangs into errors instead of endless loops:
//!
//! - **deadlock**: the future is not finished, nothing woke it, and no live timer could;
//! - **budget overrun**: the next timer lies past the virtual-time budget.
//!
//! ```
//! use std::time::Duration;
//! use crawler::Clock;
//! use crawler_sim::{Executor, VirtualClock};
//!
//! let clock = VirtualClock::new();
//! let mut exec = Executor::new(clock.clone(), Duration::from_secs(60), 1);
//! let done = exec
//!     .block_on(async {
//!         clock.sleep(Duration::from_secs(10)).await;
//!         clock.now()
//!     })
//!     .unwrap();
//! assert_eq!(done, Duration::from_secs(10));
//!
//! let err = exec.block_on(std::future::pending::<()>()).unwrap_err();
//! assert!(err.to_string().starts_with("deadlock"));
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::clock::VirtualClock;
use crate::sim::SimError;

/// Polls one future in virtual time. See the [crate documentation](crate).
#[derive(Debug)]
pub struct Executor {
    clock: VirtualClock,
    budget: Duration,
    seed: u64,
    flag: Arc<Flag>,
    waker: Waker,
    polls: u64,
}

/// Set by the waker, cleared by the executor before each poll. An atomic only because `Waker`
/// must be `Send + Sync`; there is one thread.
#[derive(Debug, Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What one [`Executor::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step<T> {
    /// The future was polled and finished with this value.
    Done(T),
    /// The future was polled and is still pending.
    Polled,
    /// Nothing was runnable: time jumped to the next timer, which woke something.
    Advanced,
}

impl Executor {
    /// An executor on `clock` that refuses to let virtual time pass `budget`. `seed` is only
    /// reported in errors, so that a failure says how to replay it.
    pub fn new(clock: VirtualClock, budget: Duration, seed: u64) -> Self {
        let flag = Arc::new(Flag(AtomicBool::new(true)));
        Executor {
            clock,
            budget,
            seed,
            waker: Waker::from(flag.clone()),
            flag,
            polls: 0,
        }
    }

    /// Polls made so far.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// One step: poll `future` if it was woken (or never polled), else advance the clock to the
    /// next timer. Errors when neither is possible (deadlock) or the next timer is past the
    /// budget.
    pub fn step<F: Future + ?Sized>(
        &mut self,
        future: Pin<&mut F>,
    ) -> Result<Step<F::Output>, SimError> {
        if self.flag.0.swap(false, Ordering::Relaxed) {
            self.polls += 1;
            let mut cx = Context::from_waker(&self.waker);
            return Ok(match future.poll(&mut cx) {
                Poll::Ready(value) => Step::Done(value),
                Poll::Pending => Step::Polled,
            });
        }
        match self.clock.next_deadline() {
            None => Err(SimError::Deadlock {
                seed: self.seed,
                at: self.clock.now(),
            }),
            Some(next) if next > self.budget => Err(SimError::BudgetOverrun {
                seed: self.seed,
                budget: self.budget,
                next,
            }),
            Some(_) => {
                self.clock.fire_next();
                Ok(Step::Advanced)
            }
        }
    }

    /// Steps `future` to completion.
    pub fn block_on<F: Future>(&mut self, future: F) -> Result<F::Output, SimError> {
        let mut future = std::pin::pin!(future);
        self.flag.0.store(true, Ordering::Relaxed);
        loop {
            if let Step::Done(value) = self.step(future.as_mut())? {
                return Ok(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_poll_when_woken_and_advance_otherwise() {
        let clock = VirtualClock::new();
        let mut exec = Executor::new(clock.clone(), Duration::from_secs(5), 0);
        let mut fut = Box::pin(async {
            clock.sleep(Duration::from_secs(1)).await;
            clock.sleep(Duration::from_secs(2)).await;
            7
        });
        let mut steps = Vec::new();
        loop {
            match exec.step(fut.as_mut()).unwrap() {
                Step::Done(v) => {
                    steps.push(format!("done {v}"));
                    break;
                }
                Step::Polled => steps.push("polled".into()),
                Step::Advanced => steps.push(format!("advanced {:?}", clock.now())),
            }
        }
        assert_eq!(
            steps,
            ["polled", "advanced 1s", "polled", "advanced 3s", "done 7"]
        );
        assert_eq!(exec.polls(), 3);
    }

    #[test]
    fn budget_overrun_is_an_error_and_time_stays_inside_the_budget() {
        let clock = VirtualClock::new();
        let mut exec = Executor::new(clock.clone(), Duration::from_secs(5), 42);
        let err = exec
            .block_on(clock.sleep(Duration::from_secs(6)))
            .unwrap_err();
        assert_eq!(
            err,
            SimError::BudgetOverrun {
                seed: 42,
                budget: Duration::from_secs(5),
                next: Duration::from_secs(6)
            }
        );
        assert_eq!(clock.now(), Duration::ZERO);
        // Exactly at the budget is fine.
        exec.block_on(clock.sleep(Duration::from_secs(5))).unwrap();
    }

    #[test]
    fn a_future_nothing_can_wake_is_a_deadlock() {
        let clock = VirtualClock::new();
        let mut exec = Executor::new(clock.clone(), Duration::from_secs(5), 9);
        let fut = async {
            clock.sleep(Duration::from_secs(1)).await;
            std::future::pending::<()>().await;
        };
        let err = exec.block_on(fut).unwrap_err();
        assert_eq!(
            err,
            SimError::Deadlock {
                seed: 9,
                at: Duration::from_secs(1)
            }
        );
    }
}
