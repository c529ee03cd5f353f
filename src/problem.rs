//! Outcomes as types: [`Problem`], what went wrong with a URL the crawl fetched, and [`Cut`],
//! why a URL it found was never fetched.
//!
//! A [`Record`](crate::Record) carries its problem as text (its `error`, one JSON string, as the
//! command line has always written it); the [`Event`](crate::Event) that hands the record to the
//! caller also carries the [`Problem`] itself, to match on. Its `Display` is that text. The
//! [`Summary`](crate::Summary) counts cuts by [`Cut`], failures by
//! [`FetchErrorKind`](crate::FetchErrorKind) and statuses by [`StatusClass`]; each serialises to
//! the JSON keys the summary has always had.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::transport::FetchError;

/// What went wrong with a fetched URL: why it has no page, or what is wrong around the page it
/// has.
///
/// A [`Record`](crate::Record) carries it as text (its `error`); the
/// [`Event`](crate::Event) carries it as this type, to match on.
///
/// ```
/// use crawler::{Cut, FetchError, FetchErrorKind, Problem};
/// let timeout = Problem::Fetch(FetchError::new(FetchErrorKind::Timeout, "no response within 30s"));
/// assert_eq!(timeout.to_string(), "timeout: no response within 30s");
/// assert!(timeout.no_page());
/// assert_eq!(Problem::RedirectLimit { max_redirect: 10 }.to_string(), "redirect limit reached (max_redirect=10)");
/// assert_eq!(serde_json::to_string(&Cut::PagesPerHost).unwrap(), r#""pages_per_host""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// No response after every try: the last try's error.
    Fetch(FetchError),
    /// A redirect (301, 302, 303, 307, 308) without a `Location` field.
    RedirectWithoutLocation,
    /// A redirect whose `Location` is not an `http(s)` URL (the field as received).
    UnusableLocation(String),
    /// A redirect not followed: every path that reached it had used its `max_redirect` hops.
    RedirectLimit {
        /// The crawl's `max_redirect`.
        max_redirect: u32,
    },
    /// The HTML parser gave up on the page (its memory limit) or failed: the links found before
    /// are followed, the rest are not.
    Links(String),
    /// robots.txt could not be read as rules (a redirect chain too long or leading nowhere):
    /// the hosts waiting on it are crawled as if it allowed everything.
    Robots(String),
    /// A sitemap that could not be read whole, or whose redirect was not followed: what it
    /// listed before the problem is used.
    Sitemap(String),
    /// A 429 or 503 asked, with `Retry-After`, for a longer wait than the crawl's cap: the URL
    /// is not tried again (its record is that answer) rather than retried early or waited on.
    RetryAfterBeyondCap {
        /// The wait the server asked for.
        asked: Duration,
        /// The crawl's `max_retry_after`.
        cap: Duration,
    },
}

impl Problem {
    /// `true` when the URL got no response at all (its record has no status).
    pub fn no_page(&self) -> bool {
        matches!(self, Problem::Fetch(_))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Fetch(error) => write!(f, "{error}"),
            Problem::RedirectWithoutLocation => f.write_str("redirect without location"),
            Problem::UnusableLocation(location) => {
                write!(f, "redirect with unusable location {location:?}")
            }
            Problem::RedirectLimit { max_redirect } => {
                write!(f, "redirect limit reached (max_redirect={max_redirect})")
            }
            Problem::Links(why) => write!(f, "links: {why}"),
            Problem::Robots(why) => write!(f, "robots.txt: {why}: all allowed"),
            Problem::Sitemap(why) => write!(f, "sitemap: {why}"),
            Problem::RetryAfterBeyondCap { asked, cap } => write!(
                f,
                "retry-after {} s exceeds the {} s cap",
                asked.as_secs_f64(),
                cap.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Problem {}

/// Why a URL the crawl found was never fetched: the summary's `cuts`, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cut {
    // In the order of their names, as the summary has always listed them.
    /// A link with `rel=nofollow`, or on a page whose robots meta says `nofollow` (one per
    /// link).
    Nofollow,
    /// In scope, but only reachable past `max_depth` or `max_redirect`.
    NotFollowed,
    /// `max_pages_per_host` reached for its host.
    PagesPerHost,
    /// More path segments than `max_path_segments` (spider trap).
    PathDepth,
    /// A path segment repeated more than `max_segment_repeats` times (spider trap).
    RepeatedSegment,
    /// robots.txt disallows it.
    Robots,
    /// Its host's robots.txt could not be fetched (5xx, no answer): nothing on the host is.
    RobotsUnavailable,
    /// Longer than `max_url_length` (spider trap).
    UrlLength,
}

impl Cut {
    /// The name the summary uses (`cut_pages_per_host` in the text report).
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::Nofollow => "nofollow",
            Cut::NotFollowed => "not_followed",
            Cut::PagesPerHost => "pages_per_host",
            Cut::PathDepth => "path_depth",
            Cut::RepeatedSegment => "repeated_segment",
            Cut::Robots => "robots",
            Cut::RobotsUnavailable => "robots_unavailable",
            Cut::UrlLength => "url_length",
        }
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of an HTTP status, the status divided by 100: the summary's `status_classes`,
/// written `2xx`. Statuses outside 100-599 never reach a record from the real transport (it
/// calls them protocol errors), but a transport of one's own may hand one over: 1234 counts as
/// `12xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusClass(u16);

impl StatusClass {
    /// The class of `status`.
    pub fn of(status: u16) -> StatusClass {
        StatusClass(status / 100)
    }

    /// The status divided by 100 (`2` for `2xx`).
    pub fn hundreds(self) -> u16 {
        self.0
    }
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}xx", self.0)
    }
}

impl Serialize for StatusClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StatusClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_suffix("xx")
            .and_then(|hundreds| hundreds.parse::<u16>().ok())
            .map(StatusClass)
            .ok_or_else(|| serde::de::Error::custom(format!("not a status class: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FetchErrorKind;

    /// Every problem prints as the text records have always carried.
    #[test]
    fn problems_print_as_before() {
        let cases = [
            (
                Problem::Fetch(FetchError::new(FetchErrorKind::Connect, "refused")),
                "connect: refused",
            ),
            (
                Problem::RedirectWithoutLocation,
                "redirect without location",
            ),
            (
                Problem::UnusableLocation("http://[::1".into()),
                r#"redirect with unusable location "http://[::1""#,
            ),
            (
                Problem::RedirectLimit { max_redirect: 3 },
                "redirect limit reached (max_redirect=3)",
            ),
            (
                Problem::Links("html parser failed: x".into()),
                "links: html parser failed: x",
            ),
            (
                Problem::Robots("redirect not followed after 5 hops".into()),
                "robots.txt: redirect not followed after 5 hops: all allowed",
            ),
            (
                Problem::Sitemap("empty sitemap".into()),
                "sitemap: empty sitemap",
            ),
            (
                Problem::RetryAfterBeyondCap {
                    asked: Duration::from_secs(31_536_000),
                    cap: Duration::from_secs(60),
                },
                "retry-after 31536000 s exceeds the 60 s cap",
            ),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text);
        }
    }

    /// Cuts and status classes serialise to the summary's keys, in the same order.
    #[test]
    fn keys_as_before() {
        let cuts = [
            Cut::Nofollow,
            Cut::NotFollowed,
            Cut::PagesPerHost,
            Cut::PathDepth,
            Cut::RepeatedSegment,
            Cut::Robots,
            Cut::RobotsUnavailable,
            Cut::UrlLength,
        ];
        let names: Vec<&str> = cuts.iter().map(|c| c.as_str()).collect();
        // The keys summaries have always had, in the order they have always been listed.
        let old = [
            "nofollow",
            "not_followed",
            "pages_per_host",
            "path_depth",
            "repeated_segment",
            "robots",
            "robots_unavailable",
            "url_length",
        ];
        assert_eq!(names, old);
        use crate::FetchErrorKind as K;
        let kinds = [
            K::Connect,
            K::Dns,
            K::Other,
            K::Protocol,
            K::Reset,
            K::Timeout,
            K::Tls,
        ];
        let mut sorted = kinds;
        sorted.sort_unstable();
        let json: Vec<String> = sorted
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        let old = [
            "connect", "dns", "other", "protocol", "reset", "timeout", "tls",
        ];
        assert_eq!(json, old.map(|k| format!("\"{k}\"")));
        for kind in kinds {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
        for cut in cuts {
            let json = serde_json::to_string(&cut).unwrap();
            assert_eq!(json, format!("\"{cut}\""));
            assert_eq!(serde_json::from_str::<Cut>(&json).unwrap(), cut);
        }
        let class = StatusClass::of(404);
        assert_eq!(serde_json::to_string(&class).unwrap(), r#""4xx""#);
        assert_eq!(
            serde_json::from_str::<StatusClass>(r#""4xx""#).unwrap(),
            class
        );
        assert!(serde_json::from_str::<StatusClass>(r#""4x""#).is_err());
    }
}
