//! The response body as a stream: Content-Length, chunked, or until the connection closes.
//!
//! [`BodyReader`] is an `AsyncBufRead` over the connection's own buffer, so body bytes are handed
//! out where they were read, never copied in between. When the body has been read to its exact
//! end (and the server allows keep-alive, and nothing unasked follows it), the connection goes
//! back to the pool at once, before the reader is even dropped. A reader dropped earlier (body
//! cap, a timeout, an error, a cancelled request) takes its connection down with it.
//!
//! A body delimited by the close of a TLS connection is complete only if a close_notify came
//! before the TCP end; without one it ends in a [`CutShort`] error, which the transport reads as
//! the end of a body that may be truncated. Length and chunks carry their own end, so a missing
//! close_notify after them (a server closing an idle connection) means nothing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_std::io::{BufRead as AsyncBufRead, Read as AsyncRead};

use super::head::Framing;
use super::pool::Checkout;
use super::{CutShort, WireError, io_error};
use crawler::FetchErrorKind;

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;

/// The most trailer bytes accepted after the last chunk, as for a head: trailers are only read
/// past, and a server streaming them forever would keep the fetch thread busy without a pause.
const MAX_TRAILERS: usize = super::head::MAX_HEAD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// This many bytes left (Content-Length).
    Length(u64),
    /// Before a chunk-size line.
    ChunkSize,
    /// This many bytes left of the current chunk.
    ChunkData(u64),
    /// The line end after a chunk's data.
    ChunkEnd,
    /// Trailer fields after the last chunk, up to an empty line.
    Trailers,
    /// Until the server closes.
    Close,
    /// The body has ended.
    Done,
}

/// A response body being read off its connection.
#[derive(Debug)]
pub(crate) struct BodyReader {
    /// The connection; `None` once the body is over (pooled or closed).
    checkout: Option<Checkout>,
    state: BodyState,
    /// The connection may serve another request after this body.
    keep_alive: bool,
    /// Trailer bytes read so far.
    trailers: usize,
}

impl BodyReader {
    /// A reader of a body framed by `framing` on `checkout`'s connection.
    pub fn new(checkout: Checkout, framing: Framing, keep_alive: bool) -> BodyReader {
        let state = match framing {
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::ChunkSize,
            Framing::Close => BodyState::Close,
        };
        let mut reader = BodyReader {
            checkout: Some(checkout),
            state,
            keep_alive: keep_alive && framing != Framing::Close,
            trailers: 0,
        };
        if state == BodyState::Length(0) {
            reader.finish();
        }
        reader
    }

    /// The body is over: pool the connection if it can serve again, else close it.
    fn finish(&mut self) {
        self.state = BodyState::Done;
        if let Some(checkout) = self.checkout.take() {
            let clean = checkout
                .conn
                .as_ref()
                .is_some_and(|c| c.buffered().is_empty());
            if self.keep_alive && clean {
                checkout.give_back();
            }
        }
    }

    /// Where the next body bytes are in the connection's buffer (reading more as needed), or
    /// `None` at the end of the body.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        loop {
            let Some(conn) = self.checkout.as_mut().and_then(|c| c.conn.as_mut()) else {
                return Poll::Ready(Ok(None));
            };
            let line_end = |buf: &[u8]| buf.iter().position(|&b| b == b'\n');
            match self.state {
                BodyState::Done => return Poll::Ready(Ok(None)),
                BodyState::Length(0) => {
                    self.finish();
                    return Poll::Ready(Ok(None));
                }
                BodyState::Length(left) | BodyState::ChunkData(left) => {
                    if conn.buffered().is_empty() && ready!(conn.poll_fill(cx, 0))? == 0 {
                        return Poll::Ready(Err(error(
                            FetchErrorKind::Reset,
                            format!("connection closed with {left} body bytes still to come"),
                        )));
                    }
                    let n = conn
                        .buffered()
                        .len()
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    return Poll::Ready(Ok(Some(n)));
                }
                BodyState::Close => {
                    if conn.buffered().is_empty() && ready!(conn.poll_fill(cx, 0))? == 0 {
                        // Over TLS, only a close_notify says that the server closed it; a bare
                        // TCP end may have cut the body short.
                        let cut = conn.ended_without_close_notify();
                        self.finish();
                        if cut {
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                CutShort,
                            )));
                        }
                        return Poll::Ready(Ok(None));
                    }
                    return Poll::Ready(Ok(Some(conn.buffered().len())));
                }
                BodyState::ChunkSize | BodyState::ChunkEnd | BodyState::Trailers => {
                    let Some(end) = line_end(conn.buffered()) else {
                        if conn.buffered().len() >= MAX_LINE {
                            return Poll::Ready(Err(error(
                                FetchErrorKind::Protocol,
                                "chunk line too long".to_string(),
                            )));
                        }
                        if ready!(conn.poll_fill(cx, MAX_LINE))? == 0 {
                            return Poll::Ready(Err(error(
                                FetchErrorKind::Reset,
                                "connection closed in the middle of a chunked body".to_string(),
                            )));
                        }
                        continue;
                    };
                    let line = &conn.buffered()[..end];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let next = match self.state {
                        BodyState::ChunkSize => match chunk_size(line) {
                            Some(0) => BodyState::Trailers,
                            Some(n) => BodyState::ChunkData(n),
                            None => {
                                return Poll::Ready(Err(error(
                                    FetchErrorKind::Protocol,
                                    format!(
                                        "bad chunk size line {:?}",
                                        String::from_utf8_lossy(&line[..line.len().min(40)])
                                    ),
                                )));
                            }
                        },
                        BodyState::ChunkEnd if line.is_empty() => BodyState::ChunkSize,
                        BodyState::ChunkEnd => {
                            return Poll::Ready(Err(error(
                                FetchErrorKind::Protocol,
                                "chunk data longer than its size".to_string(),
                            )));
                        }
                        _ if line.is_empty() => BodyState::Done,
                        _ => {
                            self.trailers += end + 1;
                            if self.trailers > MAX_TRAILERS {
                                return Poll::Ready(Err(error(
                                    FetchErrorKind::Protocol,
                                    format!("trailer fields over {MAX_TRAILERS} bytes"),
                                )));
                            }
                            BodyState::Trailers
                        }
                    };
                    conn.consume(end + 1);
                    self.state = next;
                    if next == BodyState::Done {
                        self.finish();
                        return Poll::Ready(Ok(None));
                    }
                }
            }
        }
    }
}

/// The size of a chunk-size line (hex, optionally followed by `;extensions`).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let hex = std::str::from_utf8(&line[..end]).ok()?.trim();
    if hex.is_empty() || hex.len() > 15 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

fn error(kind: FetchErrorKind, message: String) -> io::Error {
    let io_kind = match kind {
        FetchErrorKind::Protocol => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::UnexpectedEof,
    };
    io::Error::new(io_kind, WireError::new(kind, message))
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        let n = match ready!(this.poll_next(cx)) {
            Ok(Some(n)) => n,
            Ok(None) => return Poll::Ready(Ok(&[])),
            Err(e) => {
                // The connection is in an unknown state: close it now.
                this.checkout = None;
                this.state = BodyState::Done;
                let known = e
                    .get_ref()
                    .is_some_and(|i| i.is::<WireError>() || i.is::<CutShort>());
                let e = match known {
                    true => e,
                    false => io::Error::new(e.kind(), io_error(&e, FetchErrorKind::Reset)),
                };
                return Poll::Ready(Err(e));
            }
        };
        match this.checkout.as_ref().and_then(|c| c.conn.as_ref()) {
            Some(conn) => Poll::Ready(Ok(&conn.buffered()[..n])),
            None => Poll::Ready(Ok(&[])),
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        if let Some(conn) = this.checkout.as_mut().and_then(|c| c.conn.as_mut()) {
            conn.consume(amt);
        }
        match &mut this.state {
            BodyState::Length(left) => *left -= amt as u64,
            BodyState::ChunkData(left) => {
                *left -= amt as u64;
                if *left == 0 {
                    this.state = BodyState::ChunkEnd;
                }
            }
            _ => {}
        }
        if this.state == BodyState::Length(0) {
            this.finish();
        }
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let data = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = data.len().min(out.len());
        out[..n].copy_from_slice(&data[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"A;name=value"), Some(10));
        assert_eq!(chunk_size(b" 0 "), Some(0));
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"-1"), None);
        assert_eq!(chunk_size(b"0x10"), None);
        assert_eq!(chunk_size(b"ffffffffffffffff"), None);
    }
}
