//! WARC 1.1 files: the recording format of `crawl --record` and the input of replays.
//!
//! WARC is what web archives use, so a recording is also an archive that standard tools
//! (`warcio`, pywb, ...) read. One fetch attempt is written as
//!
//! - a `request` record (`application/http;msgtype=request`: the request head that was sent) and
//! - a `response` record (`application/http;msgtype=response`: status line, headers and body as
//!   received, still content-encoded if the server compressed it), linked by
//!   `WARC-Concurrent-To`, with SHA-1 block and payload digests; a body cut at the size cap is
//!   marked `WARC-Truncated: length`;
//! - or, when no response arrived, a `metadata` record with the field `crawler-fetch-error: <kind>:
//!   <message>`, so a replay can reproduce failures too.
//!
//! A `.warc.gz` file has each record in its own gzip member (the usual convention, which lets
//! readers seek). Every exchange is flushed as it is written, so a recording cut short by Ctrl-C
//! holds every exchange completed before it.
//!
//! ```
//! use crawler_warc::{Exchange, Attempt, WarcWriter, read_records};
//! let mut buf = Vec::new();
//! let mut w = WarcWriter::new(&mut buf, false);
//! w.write_exchange(&Exchange {
//!     url: "http://h/",
//!     date: "2026-11-22T00:00:00Z",
//!     request_headers: &[("User-Agent".into(), "crawler".into())],
//!     outcome: Attempt::Response {
//!         status: 200,
//!         headers: &[("Content-Type".into(), "text/html".into())],
//!         body: b"<a href=x>",
//!         truncated: false,
//!     },
//! })
//! .unwrap();
//! drop(w);
//! let records = read_records(&buf).unwrap();
//! assert_eq!(records[1].header("WARC-Type"), Some("response"));
//! assert_eq!(records[1].http_response().unwrap().body, b"<a href=x>");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use sha1_smol::Sha1;
use url::Url;

/// The `warcinfo` field naming a root of the recorded crawl (one field per root); replays start
/// from these.
pub const ROOT_FIELD: &str = "crawler-root";

/// One fetch attempt to record.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The requested URL.
    pub url: &'a str,
    /// When the request was made: an RFC 3339 UTC timestamp (`2026-11-22T00:28:44Z`).
    pub date: &'a str,
    /// Request header fields sent besides `Host` (user agent, accept-encoding, ...).
    pub request_headers: &'a [(String, String)],
    /// What came back.
    pub outcome: Attempt<'a>,
}

/// The result of one fetch attempt.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Attempt<'a> {
    /// A response arrived.
    Response {
        /// Status code.
        status: u16,
        /// Header fields as received.
        headers: &'a [(String, String)],
        /// The body bytes as received (before content decoding).
        body: &'a [u8],
        /// The body was cut at the size cap.
        truncated: bool,
    },
    /// No response: the error as the engine reports it (`timeout: ...`).
    Failed {
        /// `kind: message`.
        error: &'a str,
    },
}

/// Writes WARC records to `W`, optionally gzip-compressed per record.
#[derive(Debug)]
pub struct WarcWriter<W: Write> {
    out: W,
    gzip: bool,
    /// Seeds record ids, so that ids are unique within the file and reproducible.
    counter: u64,
}

impl<W: Write> WarcWriter<W> {
    /// A writer; `gzip` compresses each record as its own gzip member.
    pub fn new(out: W, gzip: bool) -> Self {
        WarcWriter {
            out,
            gzip,
            counter: 0,
        }
    }

    /// Writes the `warcinfo` record that opens a file.
    pub fn write_warcinfo(
        &mut self,
        date: &str,
        filename: &str,
        fields: &[(&str, &str)],
    ) -> io::Result<()> {
        let mut block = String::new();
        for (k, v) in fields {
            block.push_str(&format!("{k}: {}\r\n", one_line(v)));
        }
        let id = self.next_id(filename, date);
        let head = [
            ("WARC-Type", "warcinfo".to_string()),
            ("WARC-Date", date.to_string()),
            ("WARC-Filename", one_line(filename)),
            ("WARC-Record-ID", id),
            ("Content-Type", "application/warc-fields".to_string()),
        ];
        self.write_record(&head, block.as_bytes())?;
        self.out.flush()
    }

    /// Writes one exchange (request + response, or a failure record) and flushes.
    pub fn write_exchange(&mut self, x: &Exchange<'_>) -> io::Result<()> {
        let target = one_line(x.url);
        match x.outcome {
            Attempt::Response {
                status,
                headers,
                body,
                truncated,
            } => {
                let response_id = self.next_id(x.url, x.date);
                let request_id = self.next_id(x.url, x.date);
                let request = request_head(x.url, x.request_headers);
                let req_head = [
                    ("WARC-Type", "request".to_string()),
                    ("WARC-Target-URI", target.clone()),
                    ("WARC-Date", x.date.to_string()),
                    ("WARC-Record-ID", request_id),
                    ("WARC-Concurrent-To", response_id.clone()),
                    (
                        "Content-Type",
                        "application/http;msgtype=request".to_string(),
                    ),
                    ("WARC-Block-Digest", sha1_label(&request)),
                ];
                self.write_record(&req_head, &request)?;
                let mut block = response_head(status, headers);
                block.extend_from_slice(body);
                let mut resp_head = vec![
                    ("WARC-Type", "response".to_string()),
                    ("WARC-Target-URI", target),
                    ("WARC-Date", x.date.to_string()),
                    ("WARC-Record-ID", response_id),
                    (
                        "Content-Type",
                        "application/http;msgtype=response".to_string(),
                    ),
                    ("WARC-Block-Digest", sha1_label(&block)),
                    ("WARC-Payload-Digest", sha1_label(body)),
                ];
                if truncated {
                    resp_head.push(("WARC-Truncated", "length".to_string()));
                }
                self.write_record(&resp_head, &block)?;
            }
            Attempt::Failed { error } => {
                let block = format!("crawler-fetch-error: {}\r\n", one_line(error));
                let head = [
                    ("WARC-Type", "metadata".to_string()),
                    ("WARC-Target-URI", target),
                    ("WARC-Date", x.date.to_string()),
                    ("WARC-Record-ID", self.next_id(x.url, x.date)),
                    ("Content-Type", "application/warc-fields".to_string()),
                ];
                self.write_record(&head, block.as_bytes())?;
            }
        }
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The underlying writer, to sync it (everything written so far was flushed to it).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn next_id(&mut self, url: &str, date: &str) -> String {
        self.counter += 1;
        let mut h = Sha1::new();
        h.update(url.as_bytes());
        h.update(date.as_bytes());
        h.update(&self.counter.to_le_bytes());
        let d = h.digest().bytes();
        let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
        // Shaped as an RFC 4122 name-based (version 5) UUID: version and variant bits set.
        let variant = ['8', '9', 'a', 'b'][usize::from(d[8] & 3)];
        format!(
            "<urn:uuid:{}-{}-5{}-{variant}{}-{}>",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    fn write_record(&mut self, head: &[(&str, String)], block: &[u8]) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(block.len() + 512);
        bytes.extend_from_slice(b"WARC/1.1\r\n");
        for (k, v) in head {
            bytes.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
        bytes.extend_from_slice(block);
        bytes.extend_from_slice(b"\r\n\r\n");
        if self.gzip {
            let mut gz = GzEncoder::new(&mut self.out, Compression::default());
            gz.write_all(&bytes)?;
            gz.finish()?;
            Ok(())
        } else {
            self.out.write_all(&bytes)
        }
    }
}

/// Header values must stay on one line: CR and LF become spaces.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn sha1_label(data: &[u8]) -> String {
    format!("sha1:{}", base32(&Sha1::from(data).digest().bytes()))
}

/// RFC 4648 base32 of a 20-byte digest (no padding needed: 160 bits = 32 characters).
fn base32(bytes: &[u8; 20]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(32);
    for chunk in bytes.chunks(5) {
        let n = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        for i in (0..8).rev() {
            out.push(ALPHABET[((n >> (i * 5)) & 31) as usize] as char);
        }
    }
    out
}

fn request_head(url: &str, headers: &[(String, String)]) -> Vec<u8> {
    let (host, target) = match Url::parse(url) {
        Ok(u) => {
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or("")),
                None => u.host_str().unwrap_or("").to_string(),
            };
            let mut target = u.path().to_string();
            if let Some(q) = u.query() {
                target.push('?');
                target.push_str(q);
            }
            (host, target)
        }
        Err(_) => (String::new(), "/".to_string()),
    };
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{}: {}\r\n", one_line(k), one_line(v)));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn response_head(status: u16, headers: &[(String, String)]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        // The body is stored de-chunked, so chunked framing must not be claimed.
        if k.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        head.push_str(&format!("{}: {}\r\n", one_line(k), one_line(v)));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// One record read back from a WARC file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcRecord {
    /// Named fields of the record header, in order.
    pub headers: Vec<(String, String)>,
    /// The record block (`Content-Length` bytes).
    pub block: Vec<u8>,
}

/// An HTTP response parsed out of a `response` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// Body as recorded (content-encoded if the server encoded it).
    pub body: Vec<u8>,
}

impl WarcRecord {
    /// The first value of record header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The HTTP response of a `response` record.
    pub fn http_response(&self) -> Result<HttpResponse, WarcError> {
        parse_http_response(&self.block)
    }

    /// The `crawler-fetch-error` of a failure `metadata` record.
    pub fn fetch_error(&self) -> Option<&str> {
        let text = std::str::from_utf8(&self.block).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("crawler-fetch-error: "))
            .map(str::trim_end)
    }
}

/// What is wrong with a WARC file.
#[derive(Debug)]
#[non_exhaustive]
pub enum WarcError {
    /// Reading (or decompressing) failed.
    Io(io::Error),
    /// The bytes are not WARC as expected at `offset` (in the decompressed stream).
    Format {
        /// Byte offset of the record that is broken.
        offset: usize,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for WarcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarcError::Io(e) => write!(f, "cannot read warc: {e}"),
            WarcError::Format { offset, message } => {
                write!(f, "malformed warc at byte {offset}: {message}")
            }
        }
    }
}

impl std::error::Error for WarcError {}

fn format_err(offset: usize, message: impl Into<String>) -> WarcError {
    WarcError::Format {
        offset,
        message: message.into(),
    }
}

/// Reads every record of a WARC file's bytes (gzip-compressed or not, detected by magic).
///
/// A file cut short inside its last record (a crawl killed mid-write) yields the complete
/// records before it and then the error, as `Err`; use [`read_records_lenient`] to keep them.
pub fn read_records(data: &[u8]) -> Result<Vec<WarcRecord>, WarcError> {
    let (records, err) = read_records_lenient(data);
    match err {
        Some(e) => Err(e),
        None => Ok(records),
    }
}

/// The largest record header [`whole_len_of`] reads before calling the bytes garbage.
const MAX_HEADER: u64 = 1 << 20;

/// How many bytes at the start of the WARC file `file` reads are whole records, read as a
/// stream (a recording of many gigabytes is never held in memory). A `.warc.gz` file is read
/// member by member (each record its own gzip member, as [`WarcWriter`] writes it); a member
/// that does not decompress, or does not hold whole records, ends the whole part. Only an
/// error reading `file` itself is an error.
pub fn whole_len_of(file: impl Read) -> io::Result<u64> {
    let mut input = Counted {
        inner: io::BufReader::with_capacity(64 << 10, file),
        pos: 0,
        failed: None,
    };
    let gzip = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut whole = 0;
    loop {
        if input.fill_buf()?.is_empty() {
            return Ok(whole);
        }
        let complete = if gzip {
            let mut member = io::BufReader::new(flate2::bufread::GzDecoder::new(&mut input));
            let mut any = false;
            loop {
                match skip_record(&mut member) {
                    Ok(true) => any = true,
                    Ok(false) => break any,
                    Err(_) => break false,
                }
            }
        } else {
            matches!(skip_record(&mut input), Ok(true))
        };
        // Not the file's bytes but reading them failed: an error, not a place to cut.
        if let Some(e) = input.failed.take() {
            return Err(e);
        }
        // A member or record that is not whole, or a member that held nothing (not a member):
        // the whole part ends before it.
        if !complete || input.pos == whole {
            return Ok(whole);
        }
        whole = input.pos;
    }
}

/// A reader that counts the bytes consumed from it, and keeps its first error (which the
/// decoders above it would make a format error).
struct Counted<R> {
    inner: R,
    pos: u64,
    failed: Option<io::Error>,
}

impl<R: BufRead> Counted<R> {
    fn kept<T>(failed: &mut Option<io::Error>, r: io::Result<T>) -> io::Result<T> {
        r.inspect_err(|e| {
            failed.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
        })
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = Self::kept(&mut self.failed, self.inner.read(buf))?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Self::kept(&mut self.failed, self.inner.fill_buf())
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.pos += n as u64;
    }
}

/// Reads one whole record off `r`: `Ok(true)`; `Ok(false)` at the end, before any byte of one;
/// an error for a record cut short or not a record.
fn skip_record(r: &mut impl BufRead) -> io::Result<bool> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
    if r.fill_buf()?.is_empty() {
        return Ok(false);
    }
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let n = r.take(MAX_HEADER).read_until(b'\n', &mut head)?;
        if n == 0 || head.len() as u64 >= MAX_HEADER {
            return Err(bad("record header never ends"));
        }
    }
    let head = std::str::from_utf8(&head).map_err(|_| bad("record header is not utf-8"))?;
    let head = head.strip_suffix("\r\n\r\n").unwrap_or(head);
    let (_, len) = header_fields(head).map_err(|why| bad(&why))?;
    let len = len as u64;
    if io::copy(&mut r.take(len), &mut io::sink())? != len {
        return Err(bad("record block is cut short"));
    }
    let mut end = [0u8; 4];
    r.read_exact(&mut end)?;
    if &end != b"\r\n\r\n" {
        return Err(bad("record does not end with CRLF CRLF"));
    }
    Ok(true)
}

/// Reads records until the end or the first broken one; returns those read and the error, if any.
pub fn read_records_lenient(data: &[u8]) -> (Vec<WarcRecord>, Option<WarcError>) {
    let plain;
    let mut pending_err = None;
    let bytes: &[u8] = if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        if let Err(e) = MultiGzDecoder::new(data).read_to_end(&mut out) {
            pending_err = Some(WarcError::Io(e));
        }
        plain = out;
        &plain
    } else {
        data
    };
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        match parse_record(bytes, pos) {
            Ok((record, next)) => {
                records.push(record);
                pos = next;
            }
            Err(e) => return (records, Some(e)),
        }
    }
    (records, pending_err)
}

fn parse_record(bytes: &[u8], start: usize) -> Result<(WarcRecord, usize), WarcError> {
    let head_end = find(&bytes[start..], b"\r\n\r\n")
        .ok_or_else(|| format_err(start, "record header never ends"))?
        + start;
    let head = std::str::from_utf8(&bytes[start..head_end])
        .map_err(|_| format_err(start, "record header is not utf-8"))?;
    let (headers, len) = header_fields(head).map_err(|why| format_err(start, why))?;
    let block_start = head_end + 4;
    let block_end = block_start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| format_err(start, "record block is cut short"))?;
    let block = bytes[block_start..block_end].to_vec();
    let mut next = block_end;
    if bytes[next..].starts_with(b"\r\n\r\n") {
        next += 4;
    } else {
        return Err(format_err(start, "record does not end with CRLF CRLF"));
    }
    Ok((WarcRecord { headers, block }, next))
}

/// A record header's fields, and its block's length (`Content-Length`), from the header's text
/// (its lines, without the blank line that ends it); else why it is no WARC header. What
/// [`read_records`] and [`whole_len_of`] both hold a record's header to.
fn header_fields(head: &str) -> Result<(Vec<(String, String)>, usize), String> {
    let mut lines = head.split("\r\n");
    let version = lines.next().unwrap_or("");
    if !version.starts_with("WARC/1.") {
        return Err(format!("expected WARC/1.x, found {version:?}"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("header line without colon: {line:?}"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| "missing or bad Content-Length".to_string())?;
    Ok((headers, len))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses `HTTP/1.x status reason`, header lines and the body of a response block.
pub fn parse_http_response(block: &[u8]) -> Result<HttpResponse, WarcError> {
    let head_end =
        find(block, b"\r\n\r\n").ok_or_else(|| format_err(0, "http response head never ends"))?;
    let head = String::from_utf8_lossy(&block[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format_err(0, format!("bad status line {status_line:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: block[head_end + 4..].to_vec(),
    })
}

#[cfg(test)]
mod tests;
