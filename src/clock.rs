//! Time, as the engine is allowed to see it.
//!
//! The engine never reads the wall clock: timeouts, retry backoff and elapsed time all go through a
//! [`Clock`] it is given. The command line passes a real clock (async-std timers, `crawler-http`);
//! the simulator passes a virtual one that jumps straight to the next timer, so a crawl that would
//! take an hour of timeouts runs in milliseconds and the same seed always gives the same trace.
//!
//! ```
//! use std::time::Duration;
//! use crawler::Clock;
//!
//! /// A clock frozen at zero whose timers fire at once (useful for unit tests only).
//! struct Frozen;
//!
//! impl Clock for Frozen {
//!     fn now(&self) -> Duration {
//!         Duration::ZERO
//!     }
//!     async fn sleep(&self, _duration: Duration) {}
//! }
//! ```

use std::future::Future;
use std::time::Duration;

/// A monotonic clock and its timers.
///
/// `now` is measured from an arbitrary fixed origin (typically when the clock was made) and never
/// goes backwards. `sleep` completes once `now` has advanced by at least `duration`; dropping it
/// cancels the timer.
pub trait Clock {
    /// Time since this clock's origin.
    fn now(&self) -> Duration;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        (**self).sleep(duration)
    }
}
