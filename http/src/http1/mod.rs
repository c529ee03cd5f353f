//! The crawler's own HTTP/1.1 client, plugged into surf as an `http_client::HttpClient`.
//!
//! Why its own: curl (through isahc) costs over twice its CPU per request (BENCHMARKS.md),
//! most of it handing each transfer to and from curl's agent thread; async-h1 is cheaper but returns an empty body
//! for a response delimited by the connection closing, puts connections whose response was
//! abandoned back into its pool (the next request reads the leftovers), and cannot bound
//! connect time. This client does one thing, a request and its response on a pooled
//! connection, on the async-std reactor the crawl already runs:
//!
//! - `conn`: TCP (and TLS through native-tls: OpenSSL, the system's roots, one context for all
//!   connections), a connect timeout over resolution, TCP and the TLS handshake;
//! - `head`: the request head (`Host`, then the request's own fields, sorted by name, so the
//!   bytes sent are the same on every run), the response head (`httparse`, browser-lenient),
//!   and the body's framing (RFC 9112 §6.3);
//! - `framing`: the body as an `AsyncBufRead` over the connection's buffer: Content-Length,
//!   chunked, or until close (over TLS, a close with no close_notify before it ends the body in
//!   a `CutShort` error, which the transport turns into a body marked truncated);
//! - `pool`: keep-alive per origin with a connection cap; only a connection whose response was
//!   read to its exact end goes back, everything abandoned is closed.
//!
//! A connection taken from the pool may have been closed by the server while it sat there, or
//! hold bytes that answer nothing: every reuse checks it first (a non-blocking peek), and a `GET`
//! whose reused connection gives not a single byte back is sent once more on a new connection.
//!
//! Redirects are never followed; `Accept-Encoding` and decoding are the caller's (the transport
//! decodes and caps the body itself).

mod conn;
mod framing;
mod head;
mod pool;

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_client::http_types::headers::CONTENT_TYPE;
use http_client::http_types::{StatusCode, Version};
use http_client::{Body, Config, Error, HttpClient, Request, Response};

use super::fields::RawHead;
use conn::Endpoint;
use crawler::FetchErrorKind;
use framing::BodyReader;
use head::Framing;
use pool::Pool;

/// Why a request failed, with the crawl's failure class. Travels inside `http_types::Error` and
/// `io::Error` so the transport can classify by type, not by words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    /// The failure class.
    pub kind: FetchErrorKind,
    /// Lowercase detail, no trailing period.
    pub message: String,
}

impl WireError {
    pub(crate) fn new(kind: FetchErrorKind, message: impl Into<String>) -> WireError {
        WireError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}

/// How a body delimited by the connection's end ends when a TLS connection ended without a
/// close_notify: what arrived is the whole body as far as anyone can tell, but it may have been
/// cut short (by the network, or by anyone on the path who can close a TCP connection), so the
/// transport keeps it and marks it truncated. It travels as the `io::Error` that ends the body,
/// the only way out of surf's body reader; nothing else makes one.
#[derive(Debug)]
pub(crate) struct CutShort;

impl fmt::Display for CutShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the tls connection closed without close_notify")
    }
}

impl std::error::Error for CutShort {}

/// `true` when `e` is the end of a body that may be cut short (see [`CutShort`]).
pub(crate) fn is_cut_short(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<CutShort>())
}

/// An I/O error as a [`WireError`]: the one inside it if there is one, else classified by its
/// kind, `default` when the kind says nothing.
pub(crate) fn io_error(e: &io::Error, default: FetchErrorKind) -> WireError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<WireError>()) {
        return inner.clone();
    }
    use io::ErrorKind as K;
    let kind = match e.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            FetchErrorKind::Reset
        }
        K::TimedOut => FetchErrorKind::Timeout,
        K::InvalidData => FetchErrorKind::Protocol,
        _ => default,
    };
    WireError::new(kind, crate::error::lowercase_message(&e.to_string()))
}

/// The client: a connection pool and a TLS context.
pub(crate) struct Http1Client {
    pool: Arc<Pool>,
    /// Root certificates trusted besides the system's.
    roots: Vec<native_tls::Certificate>,
    /// The TLS context, made on the first `https` connection: a crawl of `http` sites never
    /// initialises OpenSSL or loads the system's roots (a few MB of memory).
    tls: OnceLock<Result<native_tls::TlsConnector, String>>,
    connect_timeout: Duration,
    config: Config,
}

impl fmt::Debug for Http1Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http1Client")
            .field("connect_timeout", &self.connect_timeout)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Http1Client {
    /// A client with at most `per_origin` connections to one origin, trusting the system's roots
    /// plus `extra_roots` (PEM).
    pub(crate) fn new(
        connect_timeout: Duration,
        per_origin: usize,
        extra_roots: &[Vec<u8>],
    ) -> Result<Http1Client, String> {
        let mut roots = Vec::new();
        for pem in extra_roots {
            let certs = native_tls::Certificate::stack_from_pem(pem)
                .map_err(|e| format!("bad root certificate: {e}"))?;
            if certs.is_empty() {
                return Err("no certificate in the root certificate file".to_string());
            }
            roots.extend(certs);
        }
        // Idle connections kept across all origins: enough for every slot of a busy origin, and
        // a bound on open files when a crawl touches thousands of hosts.
        let max_idle = per_origin.max(256);
        Ok(Http1Client {
            pool: Pool::new(per_origin, max_idle),
            roots,
            tls: OnceLock::new(),
            connect_timeout,
            config: Config::new()
                .set_max_connections_per_host(per_origin)
                .set_tcp_no_delay(true),
        })
    }

    /// The TLS context, made on first use.
    fn tls(&self) -> Result<&native_tls::TlsConnector, WireError> {
        let made = self.tls.get_or_init(|| {
            let mut builder = native_tls::TlsConnector::builder();
            for cert in &self.roots {
                builder.add_root_certificate(cert.clone());
            }
            builder
                .build()
                .map_err(|e| format!("cannot set up tls: {e}"))
        });
        made.as_ref()
            .map_err(|e| WireError::new(FetchErrorKind::Tls, e.clone()))
    }

    async fn exchange(&self, req: Request) -> Result<Response, WireError> {
        let url = req.url();
        let target = Endpoint::of(url)?;
        let method = req.method();
        let method = method.as_ref();
        let mut fields: Vec<(&str, &str)> = req
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| (name.as_str(), v.as_str())))
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .collect();
        fields.sort_unstable();
        let request = head::request(method, url, &fields);
        let origin = self.pool.origin(&target);
        let mut checkout = self.pool.checkout(origin).await;
        // Resending is safe for requests without side effects only.
        let mut may_resend = matches!(method, "GET" | "HEAD");
        loop {
            // Every reuse costs one non-blocking peek: bytes that arrived on an idle connection
            // answer nothing (they would be read as this request's response), and a server that
            // closed it is found before the request is written.
            if checkout.conn.as_ref().is_some_and(|c| !c.looks_alive()) {
                checkout.conn = None;
            }
            let reused = checkout.conn.is_some();
            if !reused {
                let tls = match target.tls {
                    true => Some(self.tls()?),
                    false => None,
                };
                let fresh = conn::connect(&target, tls, self.connect_timeout).await?;
                checkout.conn = Some(fresh);
            }
            let Some(conn) = checkout.conn.as_mut() else {
                unreachable!("connected above");
            };
            let got = match conn.write_all(&request).await {
                Ok(()) => head::read(conn).await,
                Err(e) => Err((io_error(&e, FetchErrorKind::Reset), true)),
            };
            match got {
                Ok(head) => return response(head, checkout, method),
                Err((_, true)) if reused && may_resend => {
                    // The server closed it while it was idle: once more, on a new connection.
                    checkout.conn = None;
                    may_resend = false;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }
}

/// The surf response for `head`, its body streaming from `checkout`'s connection. Its header
/// fields are in its extensions as a [`RawHead`] only; http-types' own map stays empty.
fn response(
    head: head::Head,
    checkout: pool::Checkout,
    method: &str,
) -> Result<Response, WireError> {
    let (framing, keep_alive) = head.framing(method)?;
    // http-types knows only the codes it has names for; an unnamed one gets its class's generic
    // code there, and the real one travels in the `RawHead`.
    let status = StatusCode::try_from(head.status)
        .or_else(|_| StatusCode::try_from(head.status / 100 * 100))
        .map_err(|_| {
            WireError::new(
                FetchErrorKind::Protocol,
                format!("unsupported status code {}", head.status),
            )
        })?;
    let mut res = Response::new(status);
    res.set_version(Some(if head.minor == 0 {
        Version::Http1_0
    } else {
        Version::Http1_1
    }));
    let length = match framing {
        Framing::Length(n) => usize::try_from(n).ok(),
        _ => None,
    };
    res.set_body(Body::from_reader(
        BodyReader::new(checkout, framing, keep_alive),
        length,
    ));
    // Setting a body makes http-types invent `Content-Type: application/octet-stream`; only the
    // server's fields are reported.
    res.remove_header(CONTENT_TYPE);
    // The fields travel only as the `RawHead`, which is what the transport reads: copying them
    // into http-types' map as well cost about four allocations per field, a fifth of all the
    // allocations of a crawl.
    res.ext_mut().insert(RawHead {
        status: head.status,
        fields: head.fields,
    });
    Ok(res)
}

#[http_client::async_trait]
impl HttpClient for Http1Client {
    async fn send(&self, req: Request) -> Result<Response, Error> {
        self.exchange(req)
            .await
            .map_err(|e| Error::new(StatusCode::BadGateway, e))
    }

    fn config(&self) -> &Config {
        &self.config
    }
}
