//! [`SurfTransport`]: the engine's [`Transport`] over real HTTP, with surf on async-std.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_std::io::ReadExt;
use bytes::Bytes;
use http_client::HttpClient;
use http_client::h1::H1Client;
use surf::http::Method;

use super::body::{ACCEPT_ENCODING, BodySink};
use super::curl::{CurlClient, RawHeaders};
use super::error;
use crate::transport::{FetchError, FetchErrorKind, Request, Response, Transport};

/// Which HTTP implementation surf runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backend {
    /// libcurl through isahc (`curl-client`): TLS by OpenSSL with the system's roots. The
    /// default; see the [module documentation](super) for why.
    #[default]
    Curl,
    /// async-h1 with async-native-tls (`h1-client`), pooled per socket address.
    H1,
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "curl" => Ok(Backend::Curl),
            "h1" => Ok(Backend::H1),
            _ => Err(format!("unknown backend {s:?} (curl or h1)")),
        }
    }
}

/// Options of the real transport. Start from `HttpOptions::default()` and set fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Sent as `User-Agent`. Default: [`crate::DEFAULT_USER_AGENT`] (the crawler's name and
    /// version).
    pub user_agent: String,
    /// Opening a connection (TCP and TLS) may take this long (curl backend; async-h1 has no
    /// separate connect timeout, so there the read timeout covers it). Default: 10 s.
    pub connect_timeout: Duration,
    /// The longest wait for the response head, and for each piece of the body after it. Default:
    /// 30 s.
    pub read_timeout: Duration,
    /// The whole request, body included, as the backend enforces it (the engine also races each
    /// try against its own `timeout` on the crawl's clock). Default: 60 s.
    pub total_timeout: Duration,
    /// Decoded body bytes kept; a longer body is cut and marked `truncated`. Default: 10 MiB.
    pub max_body: usize,
    /// Connections open to one host at once; further requests wait for one. Default: 16.
    pub max_connections_per_host: usize,
    /// The HTTP implementation. Default: [`Backend::Curl`].
    pub backend: Backend,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            user_agent: crate::DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            max_body: 10 << 20,
            max_connections_per_host: 16,
            backend: Backend::Curl,
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
    client: surf::Client,
    options: HttpOptions,
}

impl fmt::Debug for SurfTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SurfTransport")
            .field("options", &self.options)
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
            Backend::Curl => surf::Client::with_http_client(
                CurlClient::new(
                    options.connect_timeout,
                    options.total_timeout,
                    options.max_connections_per_host,
                )
                .map_err(|e| NetError::Backend(e.to_string()))?,
            ),
            Backend::H1 => {
                let config = http_client::Config::new()
                    .set_timeout(Some(options.read_timeout))
                    .set_max_connections_per_host(options.max_connections_per_host)
                    .set_tcp_no_delay(true);
                let mut h1 = H1Client::new();
                h1.set_config(config)
                    .map_err(|e| NetError::Backend(e.to_string()))?;
                surf::Client::with_http_client(h1)
            }
        };
        Ok(SurfTransport { client, options })
    }

    /// The options this transport runs with.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    async fn get(&self, request: Request) -> Result<Response, FetchError> {
        let mut req = surf::Request::new(Method::Get, request.url);
        req.insert_header("user-agent", self.options.user_agent.as_str());
        req.insert_header("accept-encoding", ACCEPT_ENCODING);
        req.insert_header("accept", "*/*");
        let read_timeout = self.options.read_timeout;
        let mut res = match async_std::future::timeout(read_timeout, self.client.send(req)).await {
            Ok(Ok(res)) => res,
            Ok(Err(e)) => return Err(error::from_surf(&e)),
            Err(_) => return Err(timeout_error("response head", read_timeout)),
        };
        let mut response = Response::new(u16::from(res.status()));
        response.headers = match res.ext::<RawHeaders>() {
            Some(RawHeaders(raw)) => raw.clone(),
            None => {
                // async-h1 leaves only http-types' hash map: sort by name so the order is at
                // least the same on every run (values of one name keep their order).
                let mut headers: Vec<(String, String)> = res
                    .iter()
                    .flat_map(|(name, values)| {
                        values
                            .iter()
                            .map(|v| (name.as_str().to_string(), v.as_str().to_string()))
                    })
                    .collect();
                headers.sort_by(|a, b| a.0.cmp(&b.0));
                headers
            }
        };
        let encoding = response.header("content-encoding").map(str::to_string);
        let mut sink = BodySink::new(encoding.as_deref(), self.options.max_body);
        let mut wire = res.take_body();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = match async_std::future::timeout(read_timeout, wire.read(&mut chunk)).await {
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(error::from_body_io(&e)),
                Err(_) => return Err(timeout_error("body data", read_timeout)),
            };
            match sink.push(&chunk[..n]) {
                Ok(false) => {}
                // Full: stop reading. Dropping the body makes the backend abandon the rest.
                Ok(true) => break,
                Err(e) => {
                    return Err(FetchError::new(
                        FetchErrorKind::Protocol,
                        format!("bad {} body: {e}", encoding.as_deref().unwrap_or("encoded")),
                    ));
                }
            }
        }
        let (body, truncated) = sink.finish();
        response.body = Bytes::from(body);
        response.truncated = truncated;
        Ok(response)
    }
}

fn timeout_error(what: &str, after: Duration) -> FetchError {
    FetchError::new(
        FetchErrorKind::Timeout,
        format!("no {what} within {after:?}"),
    )
}

impl Transport for SurfTransport {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        self.get(request).await
    }
}
