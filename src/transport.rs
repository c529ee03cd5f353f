//! The one seam between the engine and the network.
//!
//! The engine never opens a socket. It hands a [`Request`] to a [`Transport`] and gets back either a
//! [`Response`] (any status, including 3xx and 5xx) or a [`FetchError`]. The real implementation
//! speaks HTTP (the package `crawler-http`); `crawler-sim` serves a simulated network in
//! virtual time. Because everything the engine learns about the world comes through this trait,
//! the simulator can drive the real engine, unchanged.
//!
//! The contract is documented on [`Transport`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use url::Url;

/// Fetches one HTTP request.
///
/// # Contract
///
/// - Fetch exactly one request. **Never follow redirects**: a 3xx is returned as it came, with its
///   `Location` header; the engine decides what to do with it.
/// - Return `Ok` for every response that arrived, whatever its status. Return `Err` only when no
///   response could be had: DNS, connect, TLS, reset, malformed HTTP, a body that broke off.
/// - The returned future may be dropped at any point (the engine's timeout does that); dropping
///   must cancel the request and leak nothing.
/// - Enforce a body cap if you have one by cutting the body and setting [`Response::truncated`],
///   not by failing. Set it too, keeping what arrived, for a body whose end cannot be trusted:
///   one delimited by the connection's end, on a TLS connection that ended without a
///   close_notify (a body with a length or chunks carries its own end).
/// - When [`Request::html_body_only`] is set and the engine does not read the response for links
///   (its media type is none of HTML, XHTML or the XML types of
///   [`links::format_of`](crate::links::format_of)), you may skip the body: return the head with
///   an empty body and [`Response::body_skipped`] set. Reading it anyway is also correct.
/// - Futures need not be `Send`: the engine runs on one thread.
///
/// ```
/// use crawler::{FetchError, Request, Response, Transport};
///
/// /// Answers every request with an empty 404.
/// struct NotFound;
///
/// impl Transport for NotFound {
///     async fn fetch(&self, _request: Request) -> Result<Response, FetchError> {
///         Ok(Response::new(404))
///     }
/// }
/// ```
pub trait Transport {
    /// Fetch `request` once, without following redirects.
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response, FetchError>>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response, FetchError>> {
        (**self).fetch(request)
    }
}

/// One request the engine wants made. Only `GET` exists today.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The normalised, absolute `http`/`https` URL to fetch (no fragment).
    pub url: Url,
    /// The body is wanted only if the engine reads the response for links (HTML, and the XML
    /// types [`links::format_of`](crate::links::format_of) names; the name is older than those):
    /// the engine parses nothing else, so the transport may stop after any other response's head
    /// (see [`Transport`]). Set for pages when
    /// [`Config::html_bodies_only`](crate::Config::html_bodies_only) is on; never for robots.txt
    /// or sitemaps.
    pub html_body_only: bool,
}

impl Request {
    /// A `GET` of `url`, body wanted whatever it is.
    pub fn get(url: Url) -> Self {
        Request {
            url,
            html_body_only: false,
        }
    }

    /// Sets [`Request::html_body_only`] (builder style).
    pub fn with_html_body_only(mut self, on: bool) -> Self {
        self.html_body_only = on;
        self
    }
}

/// A response as it arrived: status, headers and (possibly cut) body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Header fields in arrival order; names compare case-insensitively (see [`Response::header`]).
    /// Shared rather than owned: a response's fields do not change once it has arrived, and a
    /// server model answering the same page many times (the simulator, a replay) hands out one
    /// list instead of copying every string.
    pub headers: Arc<[(String, String)]>,
    /// The body, decoded from any content encoding.
    pub body: Bytes,
    /// `true` when the transport cut the body at its size cap, or when the body may have been cut
    /// short on the way: it ended where its TLS connection did, with no close_notify before.
    pub truncated: bool,
    /// `true` when the transport did not download the body at all (the request asked for HTML
    /// bodies only and this response is not read for links); `body` is then empty.
    pub body_skipped: bool,
    /// What went over the wire, when the transport was asked to keep it (for recording a crawl;
    /// the engine never looks at it). `None` otherwise.
    pub wire: Option<Box<Wire>>,
}

/// The exchange as it went over the wire, for a recorder: what [`Response`] holds after
/// decoding is not what an archive must keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Wire {
    /// The request's header fields besides `Host`, as sent and in the order sent.
    pub request_headers: Vec<(String, String)>,
    /// The body bytes as received: still content-encoded (gzip, ...) if the server encoded them,
    /// without chunked framing, and ending where reading stopped (body cap, skipped body).
    pub body: Bytes,
}

impl Wire {
    /// The wire record of an exchange that sent `request_headers` and received `body`.
    pub fn new(request_headers: Vec<(String, String)>, body: impl Into<Bytes>) -> Self {
        Wire {
            request_headers,
            body: body.into(),
        }
    }
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Arc::default(),
            body: Bytes::new(),
            truncated: false,
            body_skipped: false,
            wire: None,
        }
    }

    /// Adds a header field (builder style).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut headers = self.headers.to_vec();
        headers.push((name.into(), value.into()));
        self.headers = headers.into();
        self
    }

    /// Sets the body (builder style).
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lowercased, without parameters (`text/html`).
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        let media = value.split(';').next().unwrap_or("").trim();
        (!media.is_empty()).then(|| media.to_ascii_lowercase())
    }
}

/// Why a fetch produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchError {
    /// The class of failure; decides the summary bucket.
    pub kind: FetchErrorKind,
    /// Human-readable detail (lowercase, no trailing period).
    pub message: String,
}

impl FetchError {
    /// An error of `kind` with a detail message.
    pub fn new(kind: FetchErrorKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.kind, self.message)
        }
    }
}

impl std::error::Error for FetchError {}

/// The classes of fetch failure. All of them are retried up to `max_tries`. Declared, and so
/// ordered and listed in the summary, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The TCP (or TLS) connection could not be opened: refused, unreachable, connect timeout.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// Anything else.
    Other,
    /// The server's answer was not valid HTTP.
    Protocol,
    /// The connection broke after it was opened: reset, closed early, body cut short.
    Reset,
    /// No answer within the per-fetch timeout (raised by the engine, or by the transport's own
    /// connect/read timeouts).
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
}

impl FetchErrorKind {
    /// A short lowercase name, used as the summary bucket (`fail_timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            FetchErrorKind::Dns => "dns",
            FetchErrorKind::Connect => "connect",
            FetchErrorKind::Tls => "tls",
            FetchErrorKind::Reset => "reset",
            FetchErrorKind::Protocol => "protocol",
            FetchErrorKind::Timeout => "timeout",
            FetchErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for FetchErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_first_wins() {
        let r = Response::new(200)
            .with_header("Content-Type", "text/HTML; charset=utf-8")
            .with_header("content-type", "text/plain");
        assert_eq!(r.header("CONTENT-TYPE"), Some("text/HTML; charset=utf-8"));
        assert_eq!(r.media_type().as_deref(), Some("text/html"));
        assert_eq!(Response::new(200).media_type(), None);
        assert_eq!(
            Response::new(200)
                .with_header("content-type", " ; x")
                .media_type(),
            None
        );
    }

    #[test]
    fn error_display() {
        let e = FetchError::new(FetchErrorKind::Connect, "connection refused");
        assert_eq!(e.to_string(), "connect: connection refused");
        assert_eq!(
            FetchError::new(FetchErrorKind::Timeout, "").to_string(),
            "timeout"
        );
    }
}
