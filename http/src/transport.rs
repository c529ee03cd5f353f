//! [`SurfTransport`]: the engine's [`Transport`] over real HTTP, with surf on async-std.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::str::FromStr;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use async_io::Timer;
use async_std::io::BufRead as AsyncBufRead;
use bytes::Bytes;
use futures_util::future::{Either, select};
use surf::http::Method;
use surf::http::headers::{ACCEPT, ACCEPT_ENCODING as ACCEPT_ENCODING_NAME, USER_AGENT};

use super::curl::CurlClient;
use super::error;
use super::fields::RawHead;
use super::http1::{Http1Client, is_cut_short};
use super::io_thread::IoThread;
use crawler::body::{ACCEPT_ENCODING, BodySink, decodes};
use crawler::{FetchError, FetchErrorKind, Request, Response, Transport, Wire};

/// Which HTTP implementation surf runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backend {
    /// The crawler's own HTTP/1.1 client (TLS by native-tls: OpenSSL with the system's roots).
    /// The default; see the [module documentation](super) for why.
    #[default]
    Native,
    /// libcurl through isahc (`curl-client`): HTTP/2 to TLS sites, kept for comparison.
    Curl,
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(Backend::Native),
            "curl" => Ok(Backend::Curl),
            _ => Err(format!("unknown backend {s:?} (native or curl)")),
        }
    }
}

/// Options of the real transport. Start from `HttpOptions::default()` and set fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Sent as `User-Agent`. Default: [`crawler::DEFAULT_USER_AGENT`] (the crawler's name and
    /// version).
    pub user_agent: String,
    /// Opening a connection (name resolution, TCP and TLS) may take this long. Default: 10 s.
    pub connect_timeout: Duration,
    /// The longest wait for the response head, and for each piece of the body after it. Default:
    /// 30 s.
    pub read_timeout: Duration,
    /// The whole request, body included (the engine also races each try against its own
    /// `timeout` on the crawl's clock). Default: 60 s.
    pub total_timeout: Duration,
    /// Decoded body bytes kept; a longer body is cut and marked `truncated`. Default: 10 MiB.
    pub max_body: usize,
    /// Connections open to one host at once; further requests wait for one. Default: 16.
    pub max_connections_per_host: usize,
    /// The HTTP implementation. Default: [`Backend::Native`].
    pub backend: Backend,
    /// A PEM file of root certificates to trust for TLS, for servers with a private CA: besides
    /// the system's roots on the native backend, instead of them on curl. Default: none.
    pub ca_file: Option<PathBuf>,
    /// Keep what went over the wire (request fields, body bytes before decoding) in
    /// [`Response::wire`], for recording. Default: off.
    pub keep_wire: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            user_agent: crawler::DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            max_body: crawler::body::DEFAULT_MAX_BODY,
            max_connections_per_host: 16,
            backend: Backend::Native,
            ca_file: None,
            keep_wire: false,
        }
    }
}

/// Why a transport could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// An option that must be positive was zero.
    Zero(&'static str),
    /// The user agent is not a valid header value.
    InvalidUserAgent(String),
    /// The HTTP backend refused to start.
    Backend(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Zero(name) => write!(f, "{name} must be greater than zero"),
            NetError::InvalidUserAgent(ua) => write!(f, "invalid user agent {ua:?}"),
            NetError::Backend(e) => write!(f, "cannot start the http client: {e}"),
        }
    }
}

impl std::error::Error for NetError {}

/// Fetches over real HTTP with surf: one request per call, redirects never followed, bodies
/// decoded and capped. See the [module documentation](super).
pub struct SurfTransport {
    inner: Arc<TransportInner>,
    /// Where the fetches run (see `io_thread`).
    io: IoThread,
}

/// What every fetch shares.
struct TransportInner {
    client: surf::Client,
    options: HttpOptions,
}

impl fmt::Debug for SurfTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SurfTransport")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl SurfTransport {
    /// A transport with `options`, checked.
    pub fn new(options: HttpOptions) -> Result<Self, NetError> {
        let positive = [
            ("connect_timeout", !options.connect_timeout.is_zero()),
            ("read_timeout", !options.read_timeout.is_zero()),
            ("total_timeout", !options.total_timeout.is_zero()),
            ("max_body", options.max_body > 0),
            (
                "max_connections_per_host",
                options.max_connections_per_host > 0,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, ok)| !ok) {
            return Err(NetError::Zero(name));
        }
        let ua = &options.user_agent;
        if ua.is_empty() || !ua.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
            return Err(NetError::InvalidUserAgent(ua.clone()));
        }
        // surf's `Client::new()` would add its logger middleware and nothing else; building it
        // from a backend directly keeps the stack empty: no redirect middleware, no logging cost.
        let client = match options.backend {
            Backend::Native => {
                let roots = match &options.ca_file {
                    Some(path) => vec![std::fs::read(path).map_err(|e| {
                        NetError::Backend(format!("cannot read {}: {e}", path.display()))
                    })?],
                    None => Vec::new(),
                };
                surf::Client::with_http_client(
                    Http1Client::new(
                        options.connect_timeout,
                        options.max_connections_per_host,
                        &roots,
                    )
                    .map_err(NetError::Backend)?,
                )
            }
            Backend::Curl => surf::Client::with_http_client(
                CurlClient::new(
                    options.connect_timeout,
                    options.total_timeout,
                    options.max_connections_per_host,
                    options.ca_file.as_deref(),
                )
                .map_err(|e| NetError::Backend(e.to_string()))?,
            ),
        };
        Ok(SurfTransport {
            inner: Arc::new(TransportInner { client, options }),
            io: IoThread::start()
                .map_err(|e| NetError::Backend(format!("cannot start the fetch thread: {e}")))?,
        })
    }

    /// The options this transport runs with.
    pub fn options(&self) -> &HttpOptions {
        &self.inner.options
    }
}

impl TransportInner {
    async fn get(&self, request: &Request) -> Result<Response, FetchError> {
        let o = &self.options;
        let started = Instant::now();
        // One timer per request, moved forward as data arrives: the head must come within
        // `read_timeout`, each piece of the body within `read_timeout` of the previous one, and
        // everything within `total_timeout`.
        let mut timer = Timer::at(started + o.read_timeout.min(o.total_timeout));
        let html_only = request.html_body_only;
        // In the order the native client sends them (by name).
        let fields = [
            ("accept", "*/*"),
            ("accept-encoding", ACCEPT_ENCODING),
            ("user-agent", o.user_agent.as_str()),
        ];
        let mut req = surf::Request::new(Method::Get, request.url.clone());
        // http-types' constant names are borrowed; a name from a `&str` would be allocated.
        for (name, (_, value)) in [ACCEPT, ACCEPT_ENCODING_NAME, USER_AGENT]
            .into_iter()
            .zip(fields)
        {
            req.insert_header(name, value);
        }
        let wire_fields = || {
            fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let mut res = match select(pin!(self.client.send(req)), &mut timer).await {
            Either::Left((Ok(res), _)) => res,
            Either::Left((Err(e), _)) => return Err(error::from_surf(&e)),
            Either::Right(_) => return Err(timeout_error("response head", o.read_timeout)),
        };
        let inner: &mut surf::http::Response = res.as_mut();
        let head = match inner.ext_mut().remove::<RawHead>() {
            Some(head) => head,
            None => RawHead {
                status: u16::from(res.status()),
                fields: sorted_fields(&res),
            },
        };
        let mut response = Response::new(head.status);
        response.headers = head.fields.into();
        let encoding = response.header("content-encoding").map(str::to_string);
        let length = response
            .header("content-length")
            .and_then(|l| l.trim().parse::<usize>().ok());
        let skip = html_only
            && response
                .media_type()
                .as_deref()
                .and_then(crawler::links::format_of)
                .is_none();
        if skip && length.is_none_or(|n| n > SMALL_BODY) {
            // Not wanted: dropping the body closes the connection without reading further.
            response.body_skipped = true;
            if o.keep_wire {
                response.wire = Some(Box::new(Wire::new(wire_fields(), Bytes::new())));
            }
            return Ok(response);
        }
        // The wire bytes differ from the body only when it is decoded; only then are they kept
        // apart.
        let mut raw = (o.keep_wire && decodes(encoding.as_deref()) && !skip).then(Vec::new);
        // A small unwanted body is only drained: no decoding, so it cannot fail the fetch.
        let encoding = if skip { None } else { encoding };
        let mut sink = BodySink::new(encoding.as_deref(), o.max_body, length.unwrap_or(0));
        let mut wire = res.take_body();
        let mut last_data = Instant::now();
        // The body ended where the connection did, but the connection's end was not
        // authenticated (TLS without close_notify): it may be cut short.
        let mut cut_short = false;
        let read = std::future::poll_fn(|cx| {
            let mut got = false;
            let mut waiting = false;
            // Drain what is ready, but yield now and then so that one fast body cannot starve
            // the crawl's other requests.
            for _ in 0..64 {
                let step = match Pin::new(&mut wire).poll_fill_buf(cx) {
                    Poll::Pending => {
                        waiting = true;
                        break;
                    }
                    Poll::Ready(Err(e)) if is_cut_short(&e) => {
                        cut_short = true;
                        return Poll::Ready(Ok(()));
                    }
                    Poll::Ready(Err(e)) => Err(error::from_body_io(&e)),
                    Poll::Ready(Ok([])) => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(data)) => {
                        let n = data.len();
                        if let Some(raw) = &mut raw {
                            raw.extend_from_slice(data);
                        }
                        let pushed = sink.push(data);
                        Pin::new(&mut wire).consume(n);
                        got = true;
                        pushed.map_err(|e| {
                            FetchError::new(
                                FetchErrorKind::Protocol,
                                format!(
                                    "bad {} body: {e}",
                                    encoding.as_deref().unwrap_or("encoded")
                                ),
                            )
                        })
                    }
                };
                match step {
                    // Full: stop reading. Dropping the body closes the connection.
                    Ok(true) => return Poll::Ready(Ok(())),
                    Ok(false) => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            if got {
                last_data = Instant::now();
            }
            if !waiting {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            while Pin::new(&mut timer).poll(cx).is_ready() {
                let due = (last_data + o.read_timeout).min(started + o.total_timeout);
                if Instant::now() >= due {
                    return Poll::Ready(Err(timeout_error("body data", o.read_timeout)));
                }
                timer.set_at(due);
            }
            Poll::Pending
        });
        read.await?;
        let (body, truncated) = sink.finish();
        let body = Bytes::from(body);
        if o.keep_wire {
            let wire_body = raw.map_or_else(|| body.clone(), Bytes::from);
            response.wire = Some(Box::new(Wire::new(wire_fields(), wire_body)));
        }
        if skip {
            // A small unwanted body was read anyway, to keep the connection (see SMALL_BODY).
            response.body_skipped = true;
            return Ok(response);
        }
        response.body = body;
        response.truncated = truncated || cut_short;
        Ok(response)
    }
}

/// http-types' header map as a list, sorted by name so the order is at least the same on every
/// run (values of one name keep their order). Only for a backend that gives no `RawHead`.
fn sorted_fields(res: &surf::Response) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = res
        .iter()
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(|v| (name.as_str().to_string(), v.as_str().to_string()))
        })
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

/// An unwanted body announced at no more than this many bytes is read and thrown away rather
/// than cut off: it has likely arrived with the head already, and reading it keeps the
/// connection for the next request, where cutting it off would cost a new one.
const SMALL_BODY: usize = 16 * 1024;

fn timeout_error(what: &str, after: Duration) -> FetchError {
    FetchError::new(
        FetchErrorKind::Timeout,
        format!("no {what} within {after:?}"),
    )
}

impl Transport for SurfTransport {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let inner = Arc::clone(&self.inner);
        let fetch = self.io.run(async move {
            let result = inner.get(&request).await.map(Packed::pack);
            // The request goes back to be freed where it was made (see `Packed`).
            (request, result)
        });
        match fetch.await {
            Ok((_request, result)) => result.map(Packed::unpack),
            Err(panic) => Err(FetchError::new(
                FetchErrorKind::Other,
                format!("the fetch panicked: {panic}"),
            )),
        }
    }
}

/// A response on its way from the fetch thread to the engine's: header fields in one string.
///
/// A response's fields are a dozen or so small strings; freed on the engine's thread, each
/// `free` of memory another thread allocated takes that thread's glibc arena lock while it is
/// allocating for the next fetch. Packed, they cross as two allocations and are unpacked on
/// the engine's thread; for the same reason [`SurfTransport::fetch`] hands the request back to
/// be freed where it was made. Measured on the 2k bench site (medians of alternating runs):
/// fetches on async-std's pool, 103 ms unpacked, 96 ms packed (21 runs); on the fetch thread,
/// 80.3 ms with the request freed there, 77.5 ms handed back (2 × 25 runs).
struct Packed {
    response: Response,
    text: String,
    /// End of each name and of each value in `text`.
    ends: Vec<(u32, u32)>,
}

impl Packed {
    fn pack(mut response: Response) -> Packed {
        let fields = std::mem::take(&mut response.headers);
        let mut text = String::with_capacity(fields.iter().map(|(n, v)| n.len() + v.len()).sum());
        let mut ends = Vec::with_capacity(fields.len());
        for (name, value) in fields.iter() {
            text.push_str(name);
            let n = text.len() as u32;
            text.push_str(value);
            ends.push((n, text.len() as u32));
        }
        Packed {
            response,
            text,
            ends,
        }
    }

    fn unpack(self) -> Response {
        let Packed {
            mut response,
            text,
            ends,
        } = self;
        let mut start = 0;
        response.headers = ends
            .iter()
            .map(|&(n, v)| {
                let field = (
                    text[start..n as usize].to_owned(),
                    text[n as usize..v as usize].to_owned(),
                );
                start = v as usize;
                field
            })
            .collect();
        response
    }
}
