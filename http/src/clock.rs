//! [`RealClock`]: the crawl's [`Clock`] on the machine's monotonic clock and async-std timers.
//!
//! The engine sees time only through the [`Clock`] it is given; the command line gives it this
//! one, and the simulator a virtual one instead. (The HTTP transport reads `Instant::now()` too,
//! for its own socket timeouts, which the engine never sees.)

use std::time::{Duration, Instant};

use crawler::Clock;

/// Monotonic time since the clock was made; timers from async-std.
#[derive(Debug, Clone, Copy)]
pub struct RealClock {
    origin: Instant,
}

impl RealClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        RealClock {
            origin: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        async_std::task::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_moves_forward_across_a_sleep() {
        let clock = RealClock::new();
        let before = clock.now();
        async_std::task::block_on(clock.sleep(Duration::from_millis(2)));
        assert!(clock.now() >= before + Duration::from_millis(2));
    }
}
