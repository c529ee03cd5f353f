//! The event trace of a simulated crawl and its hash.
//!
//! Every event (a request arriving at the simulated server, its answer or fault, a request
//! abandoned by the engine, a record the engine reports) is fed to a [`Trace`], virtual time
//! first. The trace always keeps a 64-bit hash of the structured fields of every event, in
//! order (FNV-1a's xor-multiply taken a 64-bit word at a time, with a rotation); it formats one
//! text line per event only when text was asked for. The hash is the same either way, so a run
//! without text can be compared with a run with text, and two runs with the same seed must give
//! the same hash (that is what the property tests check). The hash is written out here so it
//! never changes with a dependency.
//!
//! ```
//! use std::time::Duration;
//! use crawler_sim::{TraceEvent, Trace};
//!
//! let mut with_text = Trace::new(true);
//! let mut without = Trace::new(false);
//! for trace in [&mut with_text, &mut without] {
//!     trace.event(Duration::from_millis(5), TraceEvent::Request { url: "http://a.test/" });
//! }
//! assert_eq!(with_text.hash(), without.hash());
//! assert_eq!(with_text.text(), Some("0.005000 request http://a.test/\n"));
//! ```

use std::fmt::Write as _;
use std::time::Duration;

/// One thing that happened. URLs are normalised, as the engine requests them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent<'a> {
    /// A request reached the server.
    Request {
        /// The URL requested.
        url: &'a str,
    },
    /// The server's answer was delivered.
    Response {
        /// The URL requested.
        url: &'a str,
        /// The status sent.
        status: u16,
        /// Body bytes sent.
        size: usize,
    },
    /// The request failed without an answer (`reset`, `refused`), or was dropped (`drop`: the
    /// server will never answer).
    Fault {
        /// The URL requested.
        url: &'a str,
        /// The fault's name.
        fault: &'static str,
    },
    /// The engine gave up on a request before its answer came (its timeout fired).
    Abandoned {
        /// The URL requested.
        url: &'a str,
    },
    /// The engine reported a URL's outcome.
    Record {
        /// The URL.
        url: &'a str,
        /// The last status, if a response came.
        status: Option<u16>,
        /// Attempts made.
        tries: u32,
        /// The redirect target, if any.
        location: Option<&'a str>,
        /// The error, if any.
        error: Option<&'a str>,
    },
}

/// A trace: its hash, and its text when asked for. See the [crate documentation](crate).
#[derive(Debug, Clone)]
pub struct Trace {
    hash: u64,
    events: u64,
    text: Option<String>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One step of the hash: FNV-1a's xor and multiply on a 64-bit word, then a rotation so that
/// the high bits a multiplication fills reach the low bits of the next word's product.
fn mix(h: u64, word: u64) -> u64 {
    (h ^ word).wrapping_mul(FNV_PRIME).rotate_left(23)
}

impl Trace {
    /// An empty trace; with `text`, it also keeps one line per event.
    pub fn new(text: bool) -> Self {
        Trace {
            hash: FNV_OFFSET,
            events: 0,
            text: text.then(String::new),
        }
    }

    /// The FNV-1a hash of every event so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Events so far.
    pub fn len(&self) -> u64 {
        self.events
    }

    /// `true` before the first event.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The text, one line per event, when it was asked for.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Takes the text out of the trace.
    pub fn take_text(&mut self) -> Option<String> {
        self.text.take()
    }

    /// Mixes in `bytes` eight at a time (the last word zero-padded: every field has a fixed
    /// size or a length before it, so padding cannot make two traces alike). Each step is a
    /// bijection of the hash for a given word, so two traces that differ in one word always
    /// end with different hashes, as with byte-wise FNV-1a, at an eighth of the multiplications.
    fn bytes(&mut self, bytes: &[u8]) {
        let mut h = self.hash;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0; 8];
            w.copy_from_slice(word);
            h = mix(h, u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = mix(h, u64::from_le_bytes(w));
        }
        self.hash = h;
    }

    /// A string, length first so that fields cannot run into each other.
    fn str(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.bytes(&[1]);
                self.str(s);
            }
            None => self.bytes(&[0]),
        }
    }

    /// Records `event` at virtual time `at`.
    pub fn event(&mut self, at: Duration, event: TraceEvent<'_>) {
        self.events += 1;
        let nanos = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        self.bytes(&nanos.to_le_bytes());
        match event {
            TraceEvent::Request { url } => {
                self.bytes(b"Q");
                self.str(url);
            }
            TraceEvent::Response { url, status, size } => {
                self.bytes(b"R");
                self.str(url);
                self.bytes(&status.to_le_bytes());
                self.bytes(&(size as u64).to_le_bytes());
            }
            TraceEvent::Fault { url, fault } => {
                self.bytes(b"F");
                self.str(url);
                self.str(fault);
            }
            TraceEvent::Abandoned { url } => {
                self.bytes(b"A");
                self.str(url);
            }
            TraceEvent::Record {
                url,
                status,
                tries,
                location,
                error,
            } => {
                self.bytes(b"D");
                self.str(url);
                self.bytes(&status.map_or(0, |s| u32::from(s) + 1).to_le_bytes());
                self.bytes(&tries.to_le_bytes());
                self.opt_str(location);
                self.opt_str(error);
            }
        }
        if let Some(text) = &mut self.text {
            write_line(text, at, &event);
        }
    }
}

/// `<seconds>.<micros> <kind> <url> <details>`.
fn write_line(out: &mut String, at: Duration, event: &TraceEvent<'_>) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{}.{:06} ", at.as_secs(), at.subsec_micros());
    let _ = match event {
        TraceEvent::Request { url } => writeln!(out, "request {url}"),
        TraceEvent::Response { url, status, size } => {
            writeln!(out, "response {url} {status} {size}")
        }
        TraceEvent::Fault { url, fault } => writeln!(out, "fault {url} {fault}"),
        TraceEvent::Abandoned { url } => writeln!(out, "abandoned {url}"),
        TraceEvent::Record {
            url,
            status,
            tries,
            location,
            error,
        } => {
            let _ = write!(out, "record {url} ");
            match status {
                Some(s) => write!(out, "{s}"),
                None => write!(out, "-"),
            }
            .and_then(|()| write!(out, " tries={tries}"))
            .and_then(|()| match location {
                Some(l) => write!(out, " location={l}"),
                None => Ok(()),
            })
            .and_then(|()| match error {
                Some(e) => write!(out, " error={e:?}"),
                None => Ok(()),
            })
            .and_then(|()| writeln!(out))
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_FOOBAR: u64 = 0xb0fa_113b_e09e_bd57;

    fn hash_of(feed: impl FnOnce(&mut Trace)) -> u64 {
        let mut t = Trace::new(false);
        feed(&mut t);
        t.hash()
    }

    #[test]
    fn the_hash_is_pinned() {
        // Written out so that a change to the hash is a visible decision, not an accident.
        assert_eq!(hash_of(|t| t.str("foobar")), PINNED_FOOBAR);
        assert_eq!(hash_of(|_| {}), FNV_OFFSET);
    }

    #[test]
    fn every_byte_counts_and_padding_merges_no_fields() {
        let base: Vec<u8> = (0..21).collect();
        let h = hash_of(|t| t.bytes(&base));
        for i in 0..base.len() {
            let mut other = base.clone();
            other[i] ^= 0x80;
            assert_ne!(hash_of(|t| t.bytes(&other)), h, "byte {i}");
        }
        // Zero padding within a word: the length prefix of a string tells them apart.
        assert_ne!(hash_of(|t| t.str("a")), hash_of(|t| t.str("a\0")));
        assert_ne!(
            hash_of(|t| t.opt_str(Some(""))),
            hash_of(|t| t.opt_str(None))
        );
    }

    #[test]
    fn text_lines_and_hash_sensitivity() {
        let mut t = Trace::new(true);
        let at = Duration::from_micros(1_500_250);
        t.event(at, TraceEvent::Request { url: "http://a/" });
        t.event(
            at,
            TraceEvent::Response {
                url: "http://a/",
                status: 301,
                size: 0,
            },
        );
        t.event(
            at,
            TraceEvent::Fault {
                url: "http://a/x",
                fault: "reset",
            },
        );
        t.event(at, TraceEvent::Abandoned { url: "http://a/y" });
        t.event(
            at,
            TraceEvent::Record {
                url: "http://a/",
                status: Some(301),
                tries: 1,
                location: Some("http://a/b"),
                error: None,
            },
        );
        t.event(
            at,
            TraceEvent::Record {
                url: "http://a/x",
                status: None,
                tries: 4,
                location: None,
                error: Some("reset: connection reset"),
            },
        );
        assert_eq!(
            t.text().unwrap(),
            "1.500250 request http://a/\n\
             1.500250 response http://a/ 301 0\n\
             1.500250 fault http://a/x reset\n\
             1.500250 abandoned http://a/y\n\
             1.500250 record http://a/ 301 tries=1 location=http://a/b\n\
             1.500250 record http://a/x - tries=4 error=\"reset: connection reset\"\n"
        );
        assert_eq!(t.len(), 6);
        // Same fields at another instant, or split differently: another hash.
        let hash = |at: Duration, url: &str| {
            let mut t = Trace::new(false);
            t.event(at, TraceEvent::Request { url });
            t.hash()
        };
        assert_ne!(
            hash(at, "http://a/"),
            hash(at + Duration::from_nanos(1), "http://a/")
        );
        assert_ne!(hash(at, "http://a/"), hash(at, "http://a/x"));
        let status = |status| {
            let mut t = Trace::new(false);
            t.event(
                at,
                TraceEvent::Record {
                    url: "u",
                    status,
                    tries: 1,
                    location: None,
                    error: None,
                },
            );
            t.hash()
        };
        assert_ne!(status(None), status(Some(0)));
    }
}
