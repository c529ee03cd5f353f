//! Body decoding with a size cap: `Content-Encoding` undone as the bytes arrive, and the decoded
//! body cut at `max_body`.
//!
//! The transport feeds each chunk read from the wire to a [`BodySink`] and stops reading as soon
//! as the sink says it is full, so neither a huge body nor a small gzip bomb costs more than the
//! cap in memory (and at most one chunk's worth of inflating past it). Decoding is done here, not
//! by the HTTP backend, so the cap means the same thing on every backend. It needs no network,
//! so it lives in the engine's package: the simulator's replay decodes recorded bodies with the
//! same sink, so a replay sees exactly the body the real transport would have handed the engine.
//!
//! ```
//! # use crawler::body::BodySink;
//! # let chunk: &[u8] = b"<html>";
//! let mut sink = BodySink::new(None, 10 << 20, 0); // or Some("gzip"), Some("deflate")
//! sink.push(chunk)?;             // returns Ok(true) once the cap is reached
//! let (body, truncated) = sink.finish();
//! # assert_eq!((body.as_slice(), truncated), (&b"<html>"[..], false));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

/// The default cap on a decoded body (`crawl --max-body`): 10 MiB.
pub const DEFAULT_MAX_BODY: usize = 10 << 20;

/// The most encoded bytes read for a body whose decoded bytes are capped at `max_body`: twice
/// the cap, plus 64 KiB for headers and block tables (which decode to nothing) under a tiny cap.
/// No real compression grows data that much, so more means a body that decodes to (almost)
/// nothing, such as endless empty deflate blocks, which would otherwise be read (and, recording,
/// kept) until the timeout. The body is then cut there, as at the cap.
pub fn wire_limit(max_body: usize) -> usize {
    max_body.saturating_mul(2).saturating_add(64 << 10)
}

/// The encodings this transport advertises in `Accept-Encoding` (and can undo).
pub const ACCEPT_ENCODING: &str = "gzip, deflate";

/// `true` when a body with this `Content-Encoding` is decoded (so its wire bytes differ from the
/// body kept); unknown encodings are kept as they came.
pub fn decodes(encoding: Option<&str>) -> bool {
    encoding.is_some_and(|e| {
        let e = e.trim();
        ["gzip", "x-gzip", "deflate"]
            .iter()
            .any(|known| e.eq_ignore_ascii_case(known))
    })
}

/// Collects a body up to a cap, decoding it on the way; an encoded body is read for at most
/// [`wire_limit`] bytes.
pub struct BodySink {
    decoder: Decoder,
    /// Wire bytes still taken ([`wire_limit`] for an encoded body, unlimited otherwise).
    wire_left: usize,
    /// More wire bytes came than `wire_left` allowed: the body is cut.
    wire_cut: bool,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let encoding = match &self.decoder {
            Decoder::Identity(_) => "identity",
            Decoder::Gzip(_) => "gzip",
            Decoder::Deflate(..) => "deflate",
        };
        f.debug_struct("BodySink")
            .field("decoding", &encoding)
            .finish_non_exhaustive()
    }
}

enum Decoder {
    /// No encoding (or one we do not know: the bytes are kept as they came).
    Identity(Capped),
    Gzip(GzDecoder<Capped>),
    /// `deflate` whose first bytes tell whether it is zlib-wrapped (RFC 9110) or raw (as some
    /// servers send it); undecided until two bytes have arrived.
    Deflate(Option<DeflateKind>, Vec<u8>, usize),
}

enum DeflateKind {
    Zlib(ZlibDecoder<Capped>),
    Raw(DeflateDecoder<Capped>),
}

impl BodySink {
    /// A sink for a body with this `Content-Encoding`, keeping at most `cap` decoded bytes.
    /// `length` is the size the server announced (0 if none): an unencoded body gets its room
    /// at once instead of growing (and copying) as it arrives.
    pub fn new(encoding: Option<&str>, cap: usize, length: usize) -> Self {
        let wire_left = match decodes(encoding) {
            true => wire_limit(cap),
            false => usize::MAX,
        };
        let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
        let decoder = match encoding.as_deref() {
            Some("gzip" | "x-gzip") => Decoder::Gzip(GzDecoder::new(Capped::new(cap))),
            Some("deflate") => Decoder::Deflate(None, Vec::new(), cap),
            _ => {
                let mut c = Capped::new(cap);
                c.buf.reserve_exact(length.min(cap));
                Decoder::Identity(c)
            }
        };
        BodySink {
            decoder,
            wire_left,
            wire_cut: false,
        }
    }

    /// Takes the next chunk from the wire. `Ok(true)` means the cap (or the wire limit) was
    /// reached: stop reading. An error means the encoded data is corrupt. Of a chunk that
    /// crosses the wire limit, the part within it is decoded.
    pub fn push(&mut self, chunk: &[u8]) -> io::Result<bool> {
        let take = chunk.len().min(self.wire_left);
        self.wire_left -= take;
        let full = self.decode(&chunk[..take])?;
        if take < chunk.len() {
            self.wire_cut = true;
            return Ok(true);
        }
        Ok(full)
    }

    fn decode(&mut self, chunk: &[u8]) -> io::Result<bool> {
        match &mut self.decoder {
            Decoder::Identity(c) => {
                c.write_all(chunk)?;
                Ok(c.full)
            }
            Decoder::Gzip(d) => {
                d.write_all(chunk)?;
                Ok(d.get_ref().full)
            }
            Decoder::Deflate(kind, pending, cap) => {
                if kind.is_none() {
                    pending.extend_from_slice(chunk);
                    if pending.len() < 2 {
                        return Ok(false);
                    }
                    let mut k = if is_zlib_header(pending[0], pending[1]) {
                        DeflateKind::Zlib(ZlibDecoder::new(Capped::new(*cap)))
                    } else {
                        DeflateKind::Raw(DeflateDecoder::new(Capped::new(*cap)))
                    };
                    let full = k.write(pending)?;
                    pending.clear();
                    *kind = Some(k);
                    return Ok(full);
                }
                kind.as_mut().map_or(Ok(false), |k| k.write(chunk))
            }
        }
    }

    /// The decoded body and whether it was cut (at the cap, or at the wire limit). A stream that
    /// simply ended early (or whose trailer is bad) keeps what was decoded, as browsers do.
    pub fn finish(self) -> (Vec<u8>, bool) {
        let wire_cut = self.wire_cut;
        let capped = match self.decoder {
            Decoder::Identity(c) => c,
            Decoder::Gzip(mut d) => {
                let _ = d.try_finish();
                std::mem::replace(d.get_mut(), Capped::new(0))
            }
            Decoder::Deflate(None, pending, cap) => {
                // One byte of deflate cannot hold any data; keep it raw like an unknown encoding.
                let mut c = Capped::new(cap);
                let _ = c.write_all(&pending);
                c
            }
            Decoder::Deflate(Some(DeflateKind::Zlib(mut d)), ..) => {
                let _ = d.try_finish();
                std::mem::replace(d.get_mut(), Capped::new(0))
            }
            Decoder::Deflate(Some(DeflateKind::Raw(mut d)), ..) => {
                let _ = d.try_finish();
                std::mem::replace(d.get_mut(), Capped::new(0))
            }
        };
        (capped.buf, capped.full || wire_cut)
    }
}

impl DeflateKind {
    fn write(&mut self, chunk: &[u8]) -> io::Result<bool> {
        match self {
            DeflateKind::Zlib(d) => {
                d.write_all(chunk)?;
                Ok(d.get_ref().full)
            }
            DeflateKind::Raw(d) => {
                d.write_all(chunk)?;
                Ok(d.get_ref().full)
            }
        }
    }
}

/// RFC 1950: compression method 8 and a header checksum that divides by 31. Raw deflate never
/// passes: a low nibble of 8 would mean a non-final stored block whose padding bit is set, and
/// padding bits are zero.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// A writer that keeps the first `cap` bytes and notes (but swallows) the rest, so the decoder
/// above it never sees a write error for a body that is merely too big.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
    full: bool,
}

impl Capped {
    fn new(cap: usize) -> Self {
        Capped {
            buf: Vec::new(),
            cap,
            full: false,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.cap - self.buf.len();
        if data.len() > room {
            self.full = true;
        }
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    fn encode(encoding: &str, data: &[u8]) -> Vec<u8> {
        match encoding {
            "gzip" => {
                let mut e = GzEncoder::new(Vec::new(), Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            "zlib" => {
                let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            "raw" => {
                let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            _ => data.to_vec(),
        }
    }

    /// Feeds `wire` in chunks of `step` bytes, stopping when the sink is full, as the transport does.
    fn decode(encoding: Option<&str>, wire: &[u8], cap: usize, step: usize) -> (Vec<u8>, bool) {
        let mut sink = BodySink::new(encoding, cap, wire.len());
        for chunk in wire.chunks(step) {
            if sink.push(chunk).unwrap() {
                break;
            }
        }
        sink.finish()
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b"abcdefghij<a href=x>"[i % 20]).collect()
    }

    #[test]
    fn an_encoded_body_is_read_for_at_most_the_wire_limit() {
        // A gzip header, then empty stored blocks, none of them the last: they decode to nothing.
        let empty = |blocks| {
            [
                &b"\x1f\x8b\x08\0\0\0\0\0\0\xff"[..],
                &b"\0\0\0\xff\xff".repeat(blocks),
            ]
            .concat()
        };
        assert_eq!(wire_limit(100), 200 + 65_536);
        let mut sink = BodySink::new(Some("gzip"), 100, 0);
        assert!(
            sink.push(&empty(20_000)).unwrap(),
            "100,010 wire bytes: stop"
        );
        assert_eq!(sink.finish(), (Vec::new(), true));
        let mut sink = BodySink::new(Some("gzip"), 100, 0);
        let block = b"\0\0\0\xff\xff".repeat(1000);
        assert!(!sink.push(&empty(0)).unwrap());
        for _ in 0..13 {
            assert!(!sink.push(&block).unwrap(), "up to 65,010 wire bytes");
        }
        assert!(sink.push(&block).unwrap(), "70,010: over");
        assert_eq!(sink.finish(), (Vec::new(), true));
        // Of the chunk that crosses the limit, the part within it is decoded, up to the cap.
        let mut x: u32 = 1;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b'!' + ((x >> 16) % 94) as u8
            })
            .collect();
        let wire = encode("gzip", &noise);
        assert!(wire.len() > wire_limit(500), "{}", wire.len());
        let mut sink = BodySink::new(Some("gzip"), 500, 0);
        assert!(sink.push(&wire).unwrap());
        assert_eq!(sink.finish(), (noise[..500].to_vec(), true));
        // An unencoded body has no wire limit: the cap alone decides.
        let mut sink = BodySink::new(None, 100_000, 0);
        assert!(!sink.push(&noise).unwrap());
        assert_eq!(sink.finish(), (noise.clone(), false));
    }

    #[test]
    fn every_encoding_round_trips_in_any_chunking() {
        let data = text(50_000);
        for (name, header) in [
            ("gzip", "gzip"),
            ("zlib", "deflate"),
            ("raw", "deflate"),
            ("none", "identity"),
        ] {
            let wire = encode(name, &data);
            for step in [1, 7, 4096, wire.len()] {
                let (body, cut) = decode(Some(header), &wire, 1 << 20, step);
                assert_eq!(body, data, "{name} step {step}");
                assert!(!cut);
            }
        }
    }

    #[test]
    fn the_cap_applies_to_decoded_bytes() {
        let data = vec![b'x'; 1 << 20];
        let wire = encode("gzip", &data);
        assert!(wire.len() < 10_000);
        let (body, cut) = decode(Some("gzip"), &wire, 1000, 512);
        assert_eq!(body, vec![b'x'; 1000]);
        assert!(cut);
        // Exactly at the cap is not a cut.
        let (body, cut) = decode(None, &text(1000), 1000, 100);
        assert_eq!((body.len(), cut), (1000, false));
        let (body, cut) = decode(None, &text(1001), 1000, 100);
        assert_eq!((body.len(), cut), (1000, true));
    }

    #[test]
    fn unknown_encodings_are_kept_raw_and_corrupt_gzip_is_an_error() {
        let (body, _) = decode(Some("br"), b"\x01\x02", 10, 1);
        assert_eq!(body, b"\x01\x02");
        let mut sink = BodySink::new(Some("gzip"), 100, 0);
        assert!(sink.push(b"this is not gzip at all").is_err());
    }

    #[test]
    fn a_stream_cut_short_keeps_what_was_decoded() {
        let data = text(20_000);
        let wire = encode("gzip", &data);
        let (body, cut) = decode(Some("gzip"), &wire[..wire.len() / 2], 1 << 20, 64);
        assert!(!cut);
        assert!(!body.is_empty() && data.starts_with(&body));
    }

    /// The oracle: decode the whole body at once with flate2's readers, then cut.
    fn oracle(encoding: &str, wire: &[u8], cap: usize) -> (Vec<u8>, bool) {
        use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
        use std::io::Read;
        let mut all = Vec::new();
        match encoding {
            "gzip" => GzDecoder::new(wire).read_to_end(&mut all),
            "zlib" => ZlibDecoder::new(wire).read_to_end(&mut all),
            "raw" => DeflateDecoder::new(wire).read_to_end(&mut all),
            _ => {
                all = wire.to_vec();
                Ok(all.len())
            }
        }
        .unwrap();
        let cut = all.len() > cap;
        all.truncate(cap);
        (all, cut)
    }

    proptest::proptest! {
        // Each case compresses up to 20 KB in a debug build; 64 cases keep the suite quick.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn streaming_decode_matches_decoding_all_at_once(
            data in proptest::collection::vec(proptest::sample::select(b"ab<>\"= \n".to_vec()), 0..20_000),
            encoding in proptest::sample::select(vec!["gzip", "zlib", "raw", "identity"]),
            step in 1usize..5000,
            cap in 1usize..25_000,
        ) {
            let wire = encode(encoding, &data);
            let header = match encoding {
                "zlib" | "raw" => "deflate",
                e => e,
            };
            let got = decode(Some(header), &wire, cap, step);
            proptest::prop_assert_eq!(got, oracle(encoding, &wire, cap));
        }
    }

    #[test]
    fn zlib_header_detection() {
        let wire = encode("zlib", b"x");
        assert!(is_zlib_header(wire[0], wire[1]));
        let raw = encode("raw", b"hello hello hello");
        assert!(!is_zlib_header(raw[0], raw[1]));
    }
}
