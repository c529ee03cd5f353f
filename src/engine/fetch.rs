//! One try of one URL, and the retry policy.
//!
//! A job makes exactly one request, raced against the per-try timeout on the crawl's clock with
//! `futures::future::select` (which polls the request first, so the race is deterministic). Whether
//! and when to try again is decided by the crawl loop with [`retry_wait`]: transport errors, 5xx
//! and 429 are retried up to `max_tries`; the wait is the server's `Retry-After` for 429/503 (capped
//! at `max_retry_after`), otherwise exponential backoff with jitter from the crawl's seeded RNG.
//! Retries go back through the scheduler, so they obey the per-host politeness rules and hold no
//! task slot while they wait.

use std::pin::pin;
use std::time::{Duration, SystemTime};

use futures_util::future::{Either, select};

use super::rng::Jitter;
use super::schedule::{Job, JobKind};
use crate::clock::Clock;
use crate::config::Config;
use crate::transport::{FetchError, FetchErrorKind, Request, Response, Transport};

/// What a job hands back to the crawl loop.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The job that ran.
    pub job: Job,
    /// Its outcome.
    pub outcome: Result<Response, FetchError>,
}

/// Makes one request for `job`, abandoned after `timeout`; with `html_bodies_only`, a page's
/// body is asked for only if it is HTML.
pub(crate) async fn fetch_once<T: Transport, C: Clock>(
    transport: &T,
    clock: &C,
    config: &Config,
    job: Job,
) -> Fetched {
    let (timeout, html_bodies_only) = (config.timeout, config.html_bodies_only);
    let html_only = html_bodies_only && job.kind == JobKind::Page;
    let request = Request::get(job.url.clone()).with_html_body_only(html_only);
    let request = pin!(transport.fetch(request));
    let timer = pin!(clock.sleep(timeout));
    let outcome = match select(request, timer).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(((), _)) => Err(FetchError::new(
            FetchErrorKind::Timeout,
            format!("no response within {timeout:?}"),
        )),
    };
    Fetched { job, outcome }
}

/// `true` when this outcome deserves another try.
pub(crate) fn retryable(outcome: &Result<Response, FetchError>) -> bool {
    match outcome {
        Err(_) => true,
        Ok(r) => r.status >= 500 || r.status == 429,
    }
}

/// The exponential backoff before try `next_try` (2, 3, ...), before jitter.
pub(crate) fn backoff(config: &Config, next_try: u32) -> Duration {
    let doublings = next_try.saturating_sub(2).min(31);
    config
        .backoff
        .saturating_mul(1u32 << doublings)
        .min(config.max_backoff)
}

/// The wait a 429 or 503 `outcome` asks for with `Retry-After`, if it asks for one. The crawl
/// loop waits that long before the next try, or, past `max_retry_after`, tries no more.
pub(crate) fn asked_wait(outcome: &Result<Response, FetchError>) -> Option<Duration> {
    let response = outcome.as_ref().ok()?;
    if !matches!(response.status, 429 | 503) {
        return None;
    }
    retry_after(response)
}

/// How long to wait before try `next_try`: the wait the server `asked` for (see
/// [`asked_wait`]), else the backoff.
pub(crate) fn retry_wait(
    config: &Config,
    asked: Option<Duration>,
    next_try: u32,
    rng: &mut Jitter,
) -> Duration {
    if let Some(wait) = asked {
        return wait;
    }
    // "Equal jitter": half fixed, half random, so retries of many URLs spread out.
    let full = backoff(config, next_try);
    let half = full / 2;
    half + half.mul_f64(rng.unit())
}

/// The wait a response's `Retry-After` asks for: delta-seconds, or an HTTP date measured against
/// the response's own `Date` header (the engine has no wall clock; the server's clock is the only
/// consistent reference). `None` when absent or unusable.
pub(crate) fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time": the cap decides.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at: SystemTime = httpdate::parse_http_date(value).ok()?;
    let now: SystemTime = httpdate::parse_http_date(response.header("date")?.trim()).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::builder()
            .root("http://h/")
            .backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(500))
            .max_retry_after(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = config();
        let b: Vec<u128> = (2..7).map(|t| backoff(&c, t).as_millis()).collect();
        assert_eq!(b, [100, 200, 400, 500, 500]);
        assert_eq!(backoff(&c, 200).as_millis(), 500);
    }

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        let c = config();
        let mut rng = Jitter::new(7);
        let err = Err(FetchError::new(FetchErrorKind::Reset, ""));
        let waits: Vec<Duration> = (0..200)
            .map(|_| retry_wait(&c, asked_wait(&err), 3, &mut rng))
            .collect();
        assert!(
            waits
                .iter()
                .all(|w| w.as_millis() >= 100 && w.as_millis() <= 200)
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "jitter varies");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let r = |v: &str| Response::new(503).with_header("Retry-After", v);
        assert_eq!(retry_after(&r("120")), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(&r("soon")), None);
        assert_eq!(retry_after(&r("-5")), None);
        assert_eq!(retry_after(&r("+5")), None, "RFC 9110: 1*DIGIT");
        assert_eq!(
            retry_after(&r("99999999999999999999999")),
            Some(Duration::from_secs(u64::MAX))
        );
        let dated =
            r("Wed, 21 Oct 2015 07:28:30 GMT").with_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(&dated), Some(Duration::from_secs(30)));
        let past =
            r("Wed, 21 Oct 2015 07:27:00 GMT").with_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(&past), Some(Duration::ZERO));
        // A date without the server's Date to measure it against is not usable.
        assert_eq!(retry_after(&r("Wed, 21 Oct 2015 07:28:30 GMT")), None);
        // Asked for by 429 and 503 only, and then waited as asked (a wait past the cap ends the
        // tries instead: engine/tests.rs).
        let mut rng = Jitter::new(1);
        let c = config();
        let asked = asked_wait(&Ok(r("45")));
        assert_eq!(asked, Some(Duration::from_secs(45)));
        assert_eq!(retry_wait(&c, asked, 2, &mut rng), Duration::from_secs(45));
        let too_many = Response::new(429).with_header("Retry-After", "3");
        assert_eq!(asked_wait(&Ok(too_many)), Some(Duration::from_secs(3)));
        let not_503 = Response::new(500).with_header("Retry-After", "30");
        assert_eq!(asked_wait(&Ok(not_503)), None);
        assert!(retry_wait(&c, None, 2, &mut rng) <= Duration::from_millis(100));
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
