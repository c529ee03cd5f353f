//! One connection: TCP, or TLS over TCP, plus the read buffer that response heads and bodies are
//! parsed out of.
//!
//! Sockets are `async_io::Async<TcpStream>` (what async-std's `TcpStream` is made of), so reads and
//! writes are plain non-blocking syscalls woken by the async-std reactor. TLS is native-tls
//! (OpenSSL on Linux, with the system's roots) driven without `unsafe`: OpenSSL reads and writes a
//! [`TlsSocket`], which passes each call to the non-blocking socket and notes which direction
//! would have blocked; the async side then waits for exactly that readiness and tries again. One
//! `native_tls::TlsConnector` (one OpenSSL context, roots loaded once) serves every connection.
//!
//! The buffer is filled by [`Conn::poll_fill`] and drained by [`Conn::consume`]; what stays in it
//! after a response belongs to no request, which is why the pool refuses such a connection.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_io::{Async, Timer};
use async_std::io::{Read as AsyncRead, Write as AsyncWrite};
use futures_util::future::{Either, select};
use native_tls::{HandshakeError, TlsConnector};

use super::WireError;
use crate::error::lowercase_message;
use crawler::FetchErrorKind;

/// Size of each connection's read buffer. A typical page (head and 5-15 KB of HTML) arrives in
/// one read; larger bodies stream through it.
const BUF_SIZE: usize = 16 * 1024;

/// Read buffers kept for reuse, at most this many per thread.
const SPARE_MAX: usize = 32;

thread_local! {
    /// Read buffers no connection of this thread holds. A connection holds one only while it has
    /// bytes read and not consumed, not while it waits for an answer or sits in the pool: with
    /// a hundred requests in flight, a dozen buffers or so are in use at once instead of a
    /// hundred (1.6 MB resident, all written to when allocated zeroed).
    static SPARE: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A read buffer of [`BUF_SIZE`] bytes, reused when one is spare.
fn take_buf() -> Box<[u8]> {
    SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_else(|| vec![0; BUF_SIZE].into_boxed_slice())
}

/// Gives `buf` back for reuse (a buffer grown for a long head is dropped instead).
fn give_buf(buf: Box<[u8]>) {
    if buf.len() == BUF_SIZE {
        SPARE.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < SPARE_MAX {
                spare.push(buf);
            }
        });
    }
}

/// Where a request goes: the parts of its URL a connection is made from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Endpoint {
    /// `true` for `https`.
    pub tls: bool,
    /// The host as a name or an IP address (no brackets).
    pub host: HostName,
    /// The port (the scheme's default when the URL has none).
    pub port: u16,
}

/// A host name or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum HostName {
    /// A DNS name, resolved on connect.
    Name(String),
    /// An address used as it is.
    Ip(IpAddr),
}

impl Endpoint {
    /// The target of `url`, or why it cannot be fetched.
    pub fn of(url: &url::Url) -> Result<Endpoint, WireError> {
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(WireError::new(
                    FetchErrorKind::Other,
                    format!("unsupported scheme {other:?}"),
                ));
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) => HostName::Name(d.to_string()),
            Some(url::Host::Ipv4(ip)) => HostName::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => HostName::Ip(IpAddr::V6(ip)),
            None => return Err(WireError::new(FetchErrorKind::Other, "url has no host")),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        Ok(Endpoint { tls, host, port })
    }
}

/// The socket under a connection.
enum Io {
    Plain(Async<TcpStream>),
    Tls(Box<native_tls::TlsStream<TlsSocket>>),
}

/// A connection and its read buffer.
pub(crate) struct Conn {
    io: Io,
    /// Empty while nothing is buffered (see [`SPARE`]).
    buf: Box<[u8]>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Responses read completely on this connection.
    pub served: u32,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("tls", &matches!(self.io, Io::Tls(_)))
            .field("buffered", &(self.end - self.start))
            .field("served", &self.served)
            .finish()
    }
}

impl Conn {
    fn new(io: Io) -> Conn {
        Conn {
            io,
            buf: Box::default(),
            start: 0,
            end: 0,
            served: 0,
        }
    }

    /// The bytes read but not consumed yet.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` buffered bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            give_buf(std::mem::take(&mut self.buf));
        }
    }

    /// Reads more bytes into the buffer, up to `limit` bytes buffered in all (the buffer grows up
    /// to it when a head does not fit). `Ok(0)` is end of stream; a full buffer is an error.
    pub fn poll_fill(&mut self, cx: &mut Context<'_>, limit: usize) -> Poll<io::Result<usize>> {
        let fresh = self.buf.is_empty();
        if fresh {
            self.buf = take_buf();
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < limit {
                let mut bigger = vec![0; (self.buf.len() * 2).min(limit)].into_boxed_slice();
                bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
                self.buf = bigger;
            } else {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("more than {limit} bytes without a line end"),
                )));
            }
        }
        let n = match self.io.poll_read(cx, &mut self.buf[self.end..]) {
            Poll::Pending => {
                if fresh {
                    give_buf(std::mem::take(&mut self.buf));
                }
                return Poll::Pending;
            }
            Poll::Ready(r) => r?,
        };
        self.end += n;
        Poll::Ready(Ok(n))
    }

    /// Ready once the socket has something to read. Right after a request is sent the answer is
    /// rarely there yet: waiting for readiness first saves the `recv` that would only say
    /// "would block". (TLS may hold decrypted bytes already, so it is always ready.)
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.io {
            Io::Plain(s) => s.poll_readable(cx),
            Io::Tls(_) => Poll::Ready(Ok(())),
        }
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = std::future::poll_fn(|cx| self.io.poll_write(cx, data)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            data = &data[n..];
        }
        Ok(())
    }

    /// `true` once a TLS connection's TCP stream has ended without a close_notify before it: the
    /// bytes read may have been cut short by anyone on the path. (Never for plain TCP, which has
    /// no way to tell.) See [`TlsSocket::eof`] for why this is how it can be known.
    pub fn ended_without_close_notify(&self) -> bool {
        match &self.io {
            Io::Plain(_) => false,
            Io::Tls(t) => t.get_ref().eof,
        }
    }

    /// `false` when the peer has closed an idle connection or sent something unasked (checked
    /// without blocking: one `recv` with `MSG_PEEK`).
    pub fn looks_alive(&self) -> bool {
        let tcp = match &self.io {
            Io::Plain(s) => s.get_ref(),
            Io::Tls(t) => t.get_ref().io.get_ref(),
        };
        let mut byte = [0u8; 1];
        matches!(tcp.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl Io {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(t) => loop {
                match t.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready!(t.get_ref().poll_ready(cx))?;
                    }
                    // The end of the stream reads as `Ok(0)` with or without a close_notify
                    // before it (`TlsSocket::eof` tells which). Were the missing close_notify
                    // reported as this error instead (not seen with the `openssl` crate's
                    // BIO), it is the same end, and noted the same way.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        t.get_mut().eof = true;
                        return Poll::Ready(Ok(0));
                    }
                    r => return Poll::Ready(r),
                }
            },
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Io::Plain(s) => Pin::new(s).poll_write(cx, data),
            Io::Tls(t) => loop {
                match t.write(data) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready!(t.get_ref().poll_ready(cx))?;
                    }
                    r => return Poll::Ready(r),
                }
            },
        }
    }
}

/// The non-blocking socket as OpenSSL sees it: a `Read + Write` that says `WouldBlock`, and
/// remembers which direction did, and whether the TCP stream ended.
struct TlsSocket {
    io: Async<TcpStream>,
    /// The last call that would have blocked was a write.
    wants_write: bool,
    /// A read of the TCP stream returned its end.
    ///
    /// This is how a TLS stream that ended without close_notify is told from one that ended
    /// with it: through native-tls and the `openssl` crate both read as `Ok(0)` (observed with
    /// OpenSSL 3.0: OpenSSL only calls an end without close_notify an error when its BIO answers
    /// `BIO_eof`, which the crate's stream BIO never does, so the crate sees `SSL_ERROR_SYSCALL`
    /// with nothing queued and returns `Ok(0)`). But OpenSSL reads records only as far as it
    /// needs them, and after a close_notify it reads nothing more: the TCP end reaches this
    /// socket only when the stream stopped before a close_notify (between records or inside one).
    eof: bool,
}

impl TlsSocket {
    /// Ready when the direction OpenSSL waits for is.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.wants_write {
            self.io.poll_writable(cx)
        } else {
            self.io.poll_readable(cx)
        }
    }
}

impl Read for TlsSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = (&mut self.io.get_ref()).read(buf);
        match &r {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wants_write = false,
            Ok(0) if !buf.is_empty() => self.eof = true,
            _ => {}
        }
        r
    }
}

impl Write for TlsSocket {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let r = (&mut self.io.get_ref()).write(data);
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.wants_write = true;
        }
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens a connection to `target` (TCP, then TLS for `https`), all within `timeout`.
/// `tls` is the context for an `https` target (`None` for `http`).
pub(crate) async fn connect(
    target: &Endpoint,
    tls: Option<&TlsConnector>,
    timeout: Duration,
) -> Result<Conn, WireError> {
    let open = std::pin::pin!(open(target, tls));
    match select(open, Timer::after(timeout)).await {
        Either::Left((r, _)) => r,
        Either::Right(_) => Err(WireError::new(
            FetchErrorKind::Connect,
            format!("connect timed out after {timeout:?}"),
        )),
    }
}

async fn open(target: &Endpoint, tls: Option<&TlsConnector>) -> Result<Conn, WireError> {
    let addrs: Vec<SocketAddr> = match &target.host {
        HostName::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        HostName::Name(name) => {
            use async_std::net::ToSocketAddrs;
            let found = (name.as_str(), target.port)
                .to_socket_addrs()
                .await
                .map_err(|e| {
                    WireError::new(FetchErrorKind::Dns, lowercase_message(&e.to_string()))
                })?;
            found.collect()
        }
    };
    let mut last = WireError::new(FetchErrorKind::Dns, "no address found");
    for addr in addrs {
        match Async::<TcpStream>::connect(addr).await {
            Ok(stream) => {
                // One write per request head: nothing gains from Nagle's delay.
                let _ = stream.get_ref().set_nodelay(true);
                return match tls {
                    Some(tls) => handshake(stream, target, tls).await,
                    None => Ok(Conn::new(Io::Plain(stream))),
                };
            }
            Err(e) => {
                last = WireError::new(FetchErrorKind::Connect, lowercase_message(&e.to_string()))
            }
        }
    }
    Err(last)
}

async fn handshake(
    io: Async<TcpStream>,
    target: &Endpoint,
    tls: &TlsConnector,
) -> Result<Conn, WireError> {
    let domain = match &target.host {
        HostName::Name(n) => n.clone(),
        HostName::Ip(ip) => ip.to_string(),
    };
    let failed = |e: &dyn std::fmt::Display| {
        WireError::new(
            FetchErrorKind::Tls,
            format!(
                "tls handshake failed: {}",
                lowercase_message(&e.to_string())
            ),
        )
    };
    let mut step = tls.connect(
        &domain,
        TlsSocket {
            io,
            wants_write: false,
            eof: false,
        },
    );
    loop {
        match step {
            Ok(stream) => return Ok(Conn::new(Io::Tls(Box::new(stream)))),
            Err(HandshakeError::Failure(e)) => return Err(failed(&e)),
            Err(HandshakeError::WouldBlock(mid)) => {
                std::future::poll_fn(|cx| mid.get_ref().poll_ready(cx))
                    .await
                    .map_err(|e| failed(&e))?;
                step = mid.handshake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spare() -> usize {
        SPARE.with(|spare| spare.borrow().len())
    }

    /// A connection to a loopback peer, and the peer's end.
    fn pair() -> (Conn, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Conn::new(Io::Plain(Async::new(client).unwrap())), server)
    }

    #[test]
    fn a_buffer_is_held_only_while_bytes_are_unread() {
        let (mut conn, mut server) = pair();
        let before = spare();
        server.write_all(b"hello").unwrap();
        let n = async_io::block_on(std::future::poll_fn(|cx| conn.poll_fill(cx, 0))).unwrap();
        assert_eq!(conn.buffered(), &b"hello"[..n]);
        assert_eq!(conn.buf.len(), BUF_SIZE);
        conn.consume(n);
        assert!(conn.buf.is_empty(), "consumed: the buffer went back");
        assert_eq!(spare(), before + 1);

        // Nothing to read: the buffer taken for the read goes back while it waits.
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(conn.poll_fill(&mut cx, 0).is_pending());
        assert!(conn.buf.is_empty());
        assert_eq!(spare(), before + 1);

        // The next read reuses it.
        server.write_all(b"more").unwrap();
        let n = async_io::block_on(std::future::poll_fn(|cx| conn.poll_fill(cx, 0))).unwrap();
        assert_eq!(conn.buffered(), &b"more"[..n]);
        assert_eq!(spare(), before);
    }
}
