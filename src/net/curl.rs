//! surf's curl backend, adapted so that no server answer can panic the crawler.
//!
//! `http-client`'s own `IsahcClient` converts each response header with `to_str().unwrap()` and
//! each status with `Response::new(status)`, which `expect`s a status `http-types` knows. A server
//! that sends one non-ASCII header byte (a UTF-8 `Content-Disposition`, a raw UTF-8 `Location`) or a
//! status like 599 would panic the whole crawl. This adapter does the same job (isahc, the curl
//! backend surf uses) but percent-encodes non-ASCII header bytes and turns an unknown status into
//! an error, so a bad response is one failed page.

use std::convert::TryFrom;
use std::fmt;
use std::time::Duration;

use async_std::io::BufReader;
use http_client::http_types::headers::{HeaderName, HeaderValue};
use http_client::http_types::{self, StatusCode};
use http_client::{Body, Config, Error, HttpClient, Request, Response};
use isahc::config::{Configurable, RedirectPolicy};

/// The curl (isahc) backend, built with the crawler's options.
pub(crate) struct CurlClient {
    client: isahc::HttpClient,
    config: Config,
}

impl fmt::Debug for CurlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurlClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CurlClient {
    /// A client that never follows redirects, with curl's own connect and total timeouts and a
    /// per-host connection cap (curl queues requests beyond it).
    pub(crate) fn new(
        connect_timeout: Duration,
        total_timeout: Duration,
        max_connections_per_host: usize,
    ) -> Result<Self, isahc::Error> {
        let client = isahc::HttpClient::builder()
            .redirect_policy(RedirectPolicy::None)
            .connect_timeout(connect_timeout)
            .timeout(total_timeout)
            .max_connections_per_host(max_connections_per_host)
            // Content decoding is done by the transport, so that the decoded size can be capped
            // the same way on every backend.
            .automatic_decompression(false)
            .tcp_nodelay()
            .build()?;
        let config = Config::new()
            .set_timeout(Some(total_timeout))
            .set_max_connections_per_host(max_connections_per_host)
            .set_tcp_no_delay(true);
        Ok(CurlClient { client, config })
    }
}

#[http_client::async_trait]
impl HttpClient for CurlClient {
    async fn send(&self, req: Request) -> Result<Response, Error> {
        let mut builder = isahc::http::Request::builder()
            .method(req.method().as_ref())
            .uri(req.url().as_str());
        for (name, values) in req.iter() {
            for value in values {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        let request = builder
            .body(())
            .map_err(|e| Error::from_str(StatusCode::BadRequest, e.to_string()))?;
        let response = self.client.send_async(request).await?;
        let (parts, body) = response.into_parts();
        let status = StatusCode::try_from(parts.status.as_u16()).map_err(|_| {
            Error::from_str(
                StatusCode::BadGateway,
                format!("unsupported status code {}", parts.status.as_u16()),
            )
        })?;
        let raw = RawHeaders(
            parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), utf8_or_escaped(v.as_bytes())))
                .collect(),
        );
        let mut out = http_types::Response::new(status);
        // Setting a body makes http-types invent `Content-Type: application/octet-stream` when
        // there is none; set it first and drop that, so only the server's headers are reported.
        out.set_body(Body::from_reader(BufReader::new(body), None));
        out.remove_header("content-type");
        for (name, value) in &parts.headers {
            let name = HeaderName::from_bytes(name.as_str().as_bytes().to_vec());
            let value = HeaderValue::from_bytes(ascii_header_value(value.as_bytes()));
            if let (Ok(name), Ok(value)) = (name, value) {
                out.append_header(name, value);
            }
        }
        out.ext_mut().insert(raw);
        Ok(out)
    }

    fn config(&self) -> &Config {
        &self.config
    }
}

/// The response's header fields in arrival order, as the server sent them (UTF-8 kept), carried
/// in the response's extensions: `http-types` keeps headers in a hash map, whose order changes
/// from run to run, and admits only ASCII values.
#[derive(Debug, Clone)]
pub(crate) struct RawHeaders(pub(crate) Vec<(String, String)>);

/// A header value as text: UTF-8 as it is, anything else percent-encoded byte by byte.
fn utf8_or_escaped(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => String::from_utf8_lossy(&ascii_header_value(bytes)).into_owned(),
    }
}

/// `bytes` with every non-ASCII or control byte percent-encoded (tabs kept), which is also what a
/// URL parser does to such bytes in a `Location`.
pub(crate) fn ascii_header_value(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b == b'\t' || (0x20..0x7f).contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_become_ascii() {
        assert_eq!(ascii_header_value(b"/a b\tc"), b"/a b\tc");
        assert_eq!(ascii_header_value("/café".as_bytes()), b"/caf%C3%A9");
        assert_eq!(ascii_header_value(b"x\x7f\x01"), b"x%7F%01");
        assert_eq!(utf8_or_escaped("café".as_bytes()), "café");
        assert_eq!(utf8_or_escaped(b"caf\xe9"), "caf%E9");
    }
}
