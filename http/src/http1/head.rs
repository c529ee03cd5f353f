//! HTTP/1.1 heads: the request head written, the response head parsed (`httparse`, with the
//! leniencies browsers have), and how the body that follows is framed (RFC 9112 §6.3).

use std::io;
use std::task::{Context, Poll};

use super::WireError;
use super::conn::Conn;
use crate::fields::header_text;
use crawler::FetchErrorKind;

/// The longest response head accepted, in bytes.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// The most informational (1xx) heads skipped before a final one: a server may send a few (100
/// Continue, 103 Early Hints), and one sending them forever would keep the fetch thread busy
/// without a pause.
const MAX_INTERIM: u32 = 32;

/// The most header fields accepted in one response head.
const MAX_FIELDS: usize = 128;

/// A response head as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// Status code.
    pub status: u16,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor: u8,
    /// Header fields in arrival order, names lowercased, values as text (see `header_text`).
    pub fields: Vec<(String, String)>,
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes (0 for bodiless responses).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    Close,
}

impl Head {
    /// The body's framing for a response to a request with `method`, and whether the connection
    /// may serve another request afterwards.
    pub fn framing(&self, method: &str) -> Result<(Framing, bool), WireError> {
        let connection = |token| {
            self.fields
                .iter()
                .any(|(n, v)| n == "connection" && has_token(v, token))
        };
        let keep_alive = !connection("close") && (self.minor >= 1 || connection("keep-alive"));
        if method == "HEAD" || self.status < 200 || self.status == 204 || self.status == 304 {
            return Ok((Framing::Length(0), keep_alive));
        }
        let mut lengths = self
            .fields
            .iter()
            .filter(|(n, _)| n == "content-length")
            .peekable();
        // Several Transfer-Encoding lines are one list (RFC 9110 §5.3): the last coding of the
        // last line is the one that frames the body.
        let te = self
            .fields
            .iter()
            .filter(|(n, _)| n == "transfer-encoding")
            .map(|(_, v)| v.as_str())
            .next_back();
        if let Some(te) = te {
            // With both, Transfer-Encoding wins and the connection is not trusted again.
            let keep_alive = keep_alive && lengths.peek().is_none();
            let last = te.rsplit(',').next().unwrap_or("").trim();
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                (Framing::Chunked, keep_alive)
            } else {
                (Framing::Close, false)
            });
        }
        let mut length: Option<u64> = None;
        for (_, value) in lengths {
            // "Content-Length: 10, 10" (a proxy's merge) is one length; differing ones are not.
            for part in value.split(',').map(str::trim) {
                let n = part
                    .parse::<u64>()
                    .ok()
                    .filter(|_| part.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| protocol(format!("bad content-length {value:?}")))?;
                if length.is_some_and(|l| l != n) {
                    return Err(protocol("conflicting content-length fields".to_string()));
                }
                length = Some(n);
            }
        }
        Ok(match length {
            Some(n) => (Framing::Length(n), keep_alive),
            None => (Framing::Close, false),
        })
    }
}

fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn protocol(message: String) -> WireError {
    WireError::new(FetchErrorKind::Protocol, message)
}

/// The outcome of trying to parse a head from the buffered bytes.
pub(crate) enum Parsed {
    /// A head, and the bytes it took.
    Done(Head, usize),
    /// More bytes needed.
    Partial,
}

/// Parses a response head at the start of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Result<Parsed, WireError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true);
    let used = match config.parse_response(&mut response, buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(protocol(format!("more than {MAX_FIELDS} header fields")));
        }
        Err(e) => return Err(protocol(format!("malformed response head: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    // RFC 9110 §15: three digits, 100 to 599; anything else cannot be understood.
    if !(100..=599).contains(&status) {
        return Err(protocol(format!("bad status code {status}")));
    }
    let fields = response
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), header_text(h.value)))
        .collect();
    Ok(Parsed::Done(
        Head {
            status,
            minor: response.version.unwrap_or(1),
            fields,
        },
        used,
    ))
}

/// Reads the next final response head from `conn` (informational 1xx heads are skipped).
/// `Err((error, before_any_byte))`: the flag says the connection gave nothing at all, which on a
/// reused connection means the server had closed it while it sat in the pool.
pub(crate) async fn read(conn: &mut Conn) -> Result<Head, (WireError, bool)> {
    let mut got_any = false;
    let mut interim = 0;
    if conn.buffered().is_empty() {
        std::future::poll_fn(|cx| conn.poll_readable(cx))
            .await
            .map_err(|e| (super::io_error(&e, FetchErrorKind::Reset), true))?;
    }
    loop {
        if !conn.buffered().is_empty() {
            got_any = true;
            match parse(conn.buffered()).map_err(|e| (e, false))? {
                Parsed::Done(head, used) => {
                    conn.consume(used);
                    match head.status {
                        101 => {
                            return Err((
                                protocol("unexpected 101 switching protocols".into()),
                                false,
                            ));
                        }
                        100..=199 => {
                            interim += 1;
                            if interim > MAX_INTERIM {
                                return Err((
                                    protocol(format!(
                                        "more than {MAX_INTERIM} informational (1xx) responses"
                                    )),
                                    false,
                                ));
                            }
                            continue;
                        }
                        _ => return Ok(head),
                    }
                }
                Parsed::Partial if conn.buffered().len() >= MAX_HEAD => {
                    return Err((
                        protocol(format!("response head over {MAX_HEAD} bytes")),
                        false,
                    ));
                }
                Parsed::Partial => {}
            }
        }
        let n = std::future::poll_fn(|cx: &mut Context<'_>| -> Poll<io::Result<usize>> {
            conn.poll_fill(cx, MAX_HEAD)
        })
        .await
        .map_err(|e| (super::io_error(&e, FetchErrorKind::Reset), !got_any))?;
        if n == 0 {
            let message = if got_any {
                "connection closed in the middle of the response head"
            } else {
                "connection closed before any response"
            };
            return Err((WireError::new(FetchErrorKind::Reset, message), !got_any));
        }
    }
}

/// The request head for `GET`-like requests: request line, `Host`, then `fields` in the order
/// given.
pub(crate) fn request(method: &str, url: &url::Url, fields: &[(&str, &str)]) -> Vec<u8> {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let target = if target.is_empty() { "/" } else { target };
    let host = &url[url::Position::BeforeHost..url::Position::BeforePath];
    let mut head = Vec::with_capacity(64 + target.len() + fields.len() * 32);
    for part in [method, " ", target, " HTTP/1.1\r\nHost: ", host, "\r\n"] {
        head.extend_from_slice(part.as_bytes());
    }
    for (name, value) in fields {
        for part in [name, ": ", value, "\r\n"] {
            head.extend_from_slice(part.as_bytes());
        }
    }
    head.extend_from_slice(b"\r\n");
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        match parse(text.as_bytes()).unwrap() {
            Parsed::Done(h, n) => {
                assert_eq!(n, text.len());
                h
            }
            Parsed::Partial => panic!("partial: {text:?}"),
        }
    }

    fn framing(text: &str) -> (Framing, bool) {
        head(text).framing("GET").unwrap()
    }

    #[test]
    fn heads_parse_leniently_and_keep_order() {
        let h = head("HTTP/1.1 200 OK\r\nB: 1\r\nA : 2\r\nx-U: caf\u{e9}\r\n\r\n");
        assert_eq!(h.status, 200);
        assert_eq!(h.fields[0], ("b".to_string(), "1".to_string()));
        assert_eq!(h.fields[1].0, "a");
        assert_eq!(h.fields[2], ("x-u".to_string(), "caf\u{e9}".to_string()));
        assert_eq!(head("HTTP/1.0 599\r\n\r\n").status, 599);
        assert!(parse(b"HTTP/1.1 600 Odd\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 099 Odd\r\n\r\n").is_err());
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nA: b"),
            Ok(Parsed::Partial)
        ));
        assert!(parse(b"HELLO THERE\r\n\r\n").is_err());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let f = framing;
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
            (Framing::Length(5), true)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"),
            (Framing::Length(5), true)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            (Framing::Chunked, true)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            (Framing::Chunked, false)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
            (Framing::Close, false)
        );
        assert_eq!(f("HTTP/1.1 200 OK\r\n\r\n"), (Framing::Close, false));
        assert_eq!(f("HTTP/1.1 204 No\r\n\r\n"), (Framing::Length(0), true));
        assert_eq!(f("HTTP/1.1 304 No\r\n\r\n"), (Framing::Length(0), true));
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\n"),
            (Framing::Length(1), false)
        );
        assert_eq!(
            f("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"),
            (Framing::Length(1), false)
        );
        assert_eq!(
            f("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"),
            (Framing::Length(1), true)
        );
        let bad = |t: &str| head(t).framing("GET").unwrap_err().kind;
        assert_eq!(
            bad("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            FetchErrorKind::Protocol
        );
        assert_eq!(
            bad("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"),
            FetchErrorKind::Protocol
        );
        assert_eq!(
            bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            FetchErrorKind::Protocol
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
                .framing("HEAD")
                .unwrap(),
            (Framing::Length(0), true)
        );
    }

    #[test]
    fn request_heads_carry_the_target_and_host() {
        let url = url::Url::parse("http://h:8080/a%20b?q=1#frag").unwrap();
        let head = request("GET", &url, &[("User-Agent", "x/1")]);
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "GET /a%20b?q=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: x/1\r\n\r\n"
        );
        let url = url::Url::parse("https://[::1]/").unwrap();
        let head = String::from_utf8(request("GET", &url, &[])).unwrap();
        assert!(
            head.starts_with("GET / HTTP/1.1\r\nHost: [::1]\r\n"),
            "{head}"
        );
    }
}
