//! One URL's fetch: tries, per-try timeout and backoff, all on the crawl's clock.
//!
//! A job makes at most one request at a time, so the number of jobs in flight bounds the number of
//! requests in flight. Transport errors, 5xx and 429 are retried up to `max_tries` with exponential
//! backoff (`backoff`, doubled per try, capped at `max_backoff`); the last outcome is returned
//! whatever it was. The timeout races the transport's future against a clock timer with
//! `futures::future::select`, which polls its first argument first, so the race is deterministic.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{Either, select};
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::transport::{FetchError, FetchErrorKind, Request, Response, Transport};

/// What a job hands back to the engine.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The URL's id in the table.
    pub id: u32,
    /// The URL that was fetched.
    pub url: Url,
    /// The last try's outcome.
    pub outcome: Result<Response, FetchError>,
    /// Tries made.
    pub tries: u32,
}

/// `true` when this outcome deserves another try.
pub(crate) fn retryable(outcome: &Result<Response, FetchError>) -> bool {
    match outcome {
        Err(_) => true,
        Ok(r) => r.status >= 500 || r.status == 429,
    }
}

/// The pause before try `next_try` (2, 3, ...).
pub(crate) fn backoff(config: &Config, next_try: u32) -> Duration {
    let doublings = next_try.saturating_sub(2).min(31);
    config
        .backoff
        .saturating_mul(1u32 << doublings)
        .min(config.max_backoff)
}

/// Fetches `url` with retries.
pub(crate) async fn fetch<T: Transport, C: Clock>(
    transport: &T,
    clock: &C,
    config: &Config,
    id: u32,
    url: Url,
) -> Fetched {
    let mut tries = 0;
    loop {
        tries += 1;
        let request = pin!(transport.fetch(Request::get(url.clone())));
        let timer = pin!(clock.sleep(config.timeout));
        let outcome = match select(request, timer).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => Err(FetchError::new(
                FetchErrorKind::Timeout,
                format!("no response within {:?}", config.timeout),
            )),
        };
        if tries >= config.max_tries || !retryable(&outcome) {
            return Fetched {
                id,
                url,
                outcome,
                tries,
            };
        }
        clock.sleep(backoff(config, tries + 1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = Config::builder()
            .root("http://h/")
            .backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(500))
            .build()
            .unwrap();
        let b: Vec<u128> = (2..7).map(|t| backoff(&c, t).as_millis()).collect();
        assert_eq!(b, [100, 200, 400, 500, 500]);
        assert_eq!(backoff(&c, 200).as_millis(), 500);
    }

    #[test]
    fn what_is_retried() {
        let resp = |s| Ok(Response::new(s));
        assert!(retryable(&resp(500)));
        assert!(retryable(&resp(503)));
        assert!(retryable(&resp(429)));
        assert!(!retryable(&resp(404)));
        assert!(!retryable(&resp(301)));
        assert!(!retryable(&resp(200)));
        assert!(retryable(&Err(FetchError::new(FetchErrorKind::Reset, "x"))));
    }
}
