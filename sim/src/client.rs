//! What the real client does with a response once its head is in, for both simulated servers.
//!
//! A site file and a WARC recording describe what a server sends; the engine must get what the
//! real transport would hand it after talking to that server over HTTP. So both the site's
//! network ([`crate::SimTransport`]) and the replay's pass every response through [`receive`],
//! which applies the real client's rules:
//!
//! - a request with [`Request::html_body_only`](crawler::Request::html_body_only) whose response
//!   the engine does not read for links (by its `Content-Type`: not HTML, XHTML or XML; see
//!   [`format_of`](crawler::links::format_of)) gets no body (`body_skipped`), before anything else, so
//!   a body it never reads cannot fail the fetch;
//! - 204 and 304 have no body (RFC 9110 §6.4.1): the real client reads none, whatever follows;
//! - a `Content-Encoding` is decoded by the real transport's own decoder ([`decode`]); bytes that
//!   are not valid for their encoding are a `protocol` error; at most
//!   [`wire_limit`](crawler::body::wire_limit) encoded bytes are read;
//! - at most `max_body` decoded bytes are kept; more is a cut (`truncated`).
//!
//! An unencoded body within the cap is handed on as it is: the site's bodies are slices of one
//! buffer, and the common case costs one header lookup, not a copy.

use std::time::Duration;

use bytes::Bytes;
use crawler::links::format_of;
use crawler::{FetchError, FetchErrorKind, Response};

use crate::replay::decode::decode;
use crate::trace::{Trace, TraceEvent};

pub use crawler::body::DEFAULT_MAX_BODY;

/// What a request to a simulated server gets: a response, or an error and the name of its fault
/// in the trace, or no answer ever (the engine's timeout ends it).
pub(crate) enum Answer {
    Respond(Response),
    Fail(FetchError, &'static str),
    Hang,
}

impl Answer {
    /// The answer to a response the server `sent`, once [`receive`]d.
    pub(crate) fn received(sent: Response, html_only: bool, max_body: usize) -> Answer {
        match receive(sent, html_only, max_body) {
            Ok(response) => Answer::Respond(response),
            Err(error) => Answer::Fail(error, "protocol"),
        }
    }

    /// Traces the answer to the request for `url`, at `now`, and turns it into the transport's
    /// result.
    pub(crate) fn complete(
        self,
        trace: &mut Trace,
        now: Duration,
        url: &str,
    ) -> Result<Response, FetchError> {
        match self {
            Answer::Respond(response) => {
                let (status, size) = (response.status, response.body.len());
                trace.event(now, TraceEvent::Response { url, status, size });
                Ok(response)
            }
            Answer::Fail(error, fault) => {
                trace.event(now, TraceEvent::Fault { url, fault });
                Err(error)
            }
            Answer::Hang => unreachable!("a request that hangs never completes"),
        }
    }
}

/// `response` (whose `body` holds the bytes as sent, still encoded) as the real client would
/// return it to a request with this `html_only` flag and body cap.
pub(crate) fn receive(
    mut response: Response,
    html_only: bool,
    max_body: usize,
) -> Result<Response, FetchError> {
    if html_only
        && response
            .media_type()
            .as_deref()
            .and_then(format_of)
            .is_none()
    {
        response.body = Bytes::new();
        response.body_skipped = true;
        return Ok(response);
    }
    if matches!(response.status, 204 | 304) {
        response.body = Bytes::new();
        return Ok(response);
    }
    match response.header("content-encoding") {
        None => {
            if response.body.len() > max_body {
                response.body.truncate(max_body);
                response.truncated = true;
            }
        }
        Some(encoding) => match decode(Some(encoding), &response.body, max_body) {
            Ok((body, cut)) => {
                response.body = body.into();
                response.truncated = cut;
            }
            Err(e) => {
                let message = format!("bad {} body: {e}", encoding.trim());
                return Err(FetchError::new(FetchErrorKind::Protocol, message));
            }
        },
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: u16, headers: &[(&str, &str)], body: &'static [u8]) -> Response {
        let mut response = Response::new(status);
        for (name, value) in headers {
            response = response.with_header(*name, *value);
        }
        response.body = Bytes::from_static(body);
        response
    }

    const HTML: (&str, &str) = ("content-type", "text/html");

    #[test]
    fn a_plain_body_within_the_cap_is_the_same_bytes() {
        let sent = page(200, &[HTML], b"<a href=/x>x</a>");
        let got = receive(sent.clone(), false, 100).unwrap();
        assert_eq!(got, sent);
        assert_eq!(got.body.as_ptr(), sent.body.as_ptr(), "no copy");
    }

    #[test]
    fn a_plain_body_over_the_cap_is_cut() {
        let got = receive(page(200, &[HTML], b"0123456789"), false, 4).unwrap();
        assert_eq!(&got.body[..], b"0123");
        assert!(got.truncated);
        let got = receive(page(200, &[HTML], b"0123"), false, 4).unwrap();
        assert!(!got.truncated, "exactly the cap is not a cut");
    }

    #[test]
    fn no_body_for_204_and_304() {
        for status in [204, 304] {
            let got = receive(page(status, &[HTML], b"<a href=/x>"), false, 100).unwrap();
            assert!(got.body.is_empty(), "{status}");
            assert!(!got.truncated && !got.body_skipped, "{status}");
        }
        let got = receive(page(200, &[HTML], b"<a href=/x>"), false, 100).unwrap();
        assert!(!got.body.is_empty(), "a 200 keeps its body");
        // As the real transport: the HTML-only skip comes first, framing after.
        let got = receive(page(204, &[], b""), true, 100).unwrap();
        assert!(got.body_skipped);
    }

    #[test]
    fn html_only_skips_bodies_that_are_not_html_before_decoding() {
        let gzip = ("content-encoding", "gzip");
        let text = ("content-type", "text/plain");
        let got = receive(page(200, &[text, gzip], b"not gzip"), true, 100).unwrap();
        assert!(got.body_skipped && got.body.is_empty());
        let got = receive(page(200, &[], b"no type"), true, 100).unwrap();
        assert!(got.body_skipped, "no Content-Type is not HTML");
        let got = receive(
            page(200, &[("content-type", "Text/HTML; charset=x")], b"h"),
            true,
            9,
        );
        assert!(!got.unwrap().body_skipped);
        let got = receive(page(200, &[text], b"wanted"), false, 100).unwrap();
        assert_eq!(
            &got.body[..],
            b"wanted",
            "without html_only every body is read"
        );
    }

    #[test]
    fn encoded_bodies_are_decoded_and_bad_ones_are_protocol_errors() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let text = "<a href=/x>x</a>".repeat(100);
        gz.write_all(text.as_bytes()).unwrap();
        let gz: &'static [u8] = gz.finish().unwrap().leak();
        assert!(
            gz.len() < 100,
            "{} bytes: within the wire limit of a cap of 50",
            gz.len()
        );
        let gzip = ("content-encoding", "gzip");
        let got = receive(page(200, &[HTML, gzip], gz), false, 10_000).unwrap();
        assert_eq!((&got.body[..], got.truncated), (text.as_bytes(), false));
        let got = receive(page(200, &[HTML, gzip], gz), false, 50).unwrap();
        assert_eq!(
            (&got.body[..], got.truncated),
            (&text.as_bytes()[..50], true)
        );
        // Encoded bytes past the wire limit are not read (as the real transport's BodySink):
        // a gzip header, then empty blocks.
        let empty = |blocks| -> &'static [u8] {
            [
                &b"\x1f\x8b\x08\0\0\0\0\0\0\xff"[..],
                &b"\0\0\0\xff\xff".repeat(blocks),
            ]
            .concat()
            .leak()
        };
        let got = receive(page(200, &[HTML, gzip], empty(20_000)), false, 100).unwrap();
        assert_eq!((got.body.len(), got.truncated), (0, true));
        let got = receive(page(200, &[HTML, gzip], empty(100)), false, 100).unwrap();
        assert_eq!(
            (got.body.len(), got.truncated),
            (0, false),
            "within the limit: read whole"
        );
        let error = receive(page(200, &[HTML, gzip], b"<a href=/x>"), false, 100).unwrap_err();
        assert_eq!(error.kind, FetchErrorKind::Protocol);
        assert!(
            error.message.starts_with("bad gzip body"),
            "{}",
            error.message
        );
        // An encoding the client does not know is kept as it came, as the real one keeps it.
        let br = ("content-encoding", "br");
        let got = receive(page(200, &[HTML, br], b"raw"), false, 100).unwrap();
        assert_eq!(&got.body[..], b"raw");
    }
}
