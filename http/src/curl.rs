//! surf's curl backend, adapted so that no server answer can panic the crawler. Kept beside the
//! crawler's own client (`http1`) for comparison and for HTTP/2.
//!
//! `http-client`'s own `IsahcClient` converts each response header with `to_str().unwrap()` and
//! each status with `Response::new(status)`, which `expect`s a status `http-types` knows. A server
//! that sends one non-ASCII header byte (a UTF-8 `Content-Disposition`, a raw UTF-8 `Location`) or a
//! status like 599 would panic the whole crawl. This adapter does the same job (isahc, the curl
//! backend surf uses) but percent-encodes non-ASCII header bytes and turns an unknown status into
//! an error, so a bad response is one failed page.

use std::convert::TryFrom;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use async_std::io::BufReader;
use http_client::http_types::headers::{HeaderName, HeaderValue};
use http_client::http_types::{self, StatusCode};
use http_client::{Body, Config, Error, HttpClient, Request, Response};
use isahc::config::{CaCertificate, Configurable, RedirectPolicy};

use super::fields::{RawHead, ascii_header_value, header_text};

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
    /// per-host connection cap (curl queues requests beyond it); `ca_file` replaces curl's roots.
    pub(crate) fn new(
        connect_timeout: Duration,
        total_timeout: Duration,
        max_connections_per_host: usize,
        ca_file: Option<&Path>,
    ) -> Result<Self, isahc::Error> {
        let mut builder = isahc::HttpClient::builder();
        if let Some(path) = ca_file {
            builder = builder.ssl_ca_certificate(CaCertificate::file(path));
        }
        let client = builder
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
        // http-types knows only the codes it has names for; an unnamed one gets its class's
        // generic code there, and the real one travels in the `RawHead`.
        let code = parts.status.as_u16();
        let status = StatusCode::try_from(code)
            .or_else(|_| StatusCode::try_from(code / 100 * 100))
            .map_err(|_| {
                Error::from_str(
                    StatusCode::BadGateway,
                    format!("unsupported status code {code}"),
                )
            })?;
        let raw = RawHead {
            status: code,
            fields: parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), header_text(v.as_bytes())))
                .collect(),
        };
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
