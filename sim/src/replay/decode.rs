//! Content decoding of recorded bodies, as the real transport does it.
//!
//! A recording keeps bodies as they came over the wire: still gzip- or deflate-encoded when the
//! server compressed them. The engine must see what the real transport hands it: the body
//! decoded, cut at the body cap, with unknown encodings kept as they came. So it goes through
//! the real transport's own decoder, [`crawler::body::BodySink`], in one push; the tests here
//! hold its rules against flate2's own readers:
//!
//! - `gzip` and `x-gzip` are gunzipped; `deflate` is zlib-wrapped (RFC 9110) or raw (as some
//!   servers send it), told apart by its first two bytes; anything else is kept as it is;
//! - encoded bytes that are not valid for their encoding are an error (the real transport turns
//!   it into a `protocol` fetch error); a stream that merely ends early (a body the recorder cut
//!   at its cap) keeps what was decoded;
//! - at most `cap` decoded bytes are kept; more is a cut (`truncated`), and so is an encoded body
//!   longer than [`wire_limit`](crawler::body::wire_limit) wire bytes.
//!
//! ```text
//! decode(Some("gzip"), &wire, 10 << 20)? == (body, truncated)
//! ```

use std::io;

use crawler::body::BodySink;

/// Decodes `wire` as the real transport would with this `Content-Encoding`, keeping at most
/// `cap` bytes. Returns the body and whether it was cut at the cap.
pub(crate) fn decode(
    encoding: Option<&str>,
    wire: &[u8],
    cap: usize,
) -> io::Result<(Vec<u8>, bool)> {
    let mut sink = BodySink::new(encoding, cap, wire.len());
    sink.push(wire)?;
    Ok(sink.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn encode(encoding: &str, data: &[u8]) -> Vec<u8> {
        fn all<W: Write>(mut e: W, data: &[u8]) -> W {
            e.write_all(data).unwrap();
            e
        }
        let level = Compression::default();
        match encoding {
            "gzip" => all(GzEncoder::new(Vec::new(), level), data)
                .finish()
                .unwrap(),
            "zlib" => all(ZlibEncoder::new(Vec::new(), level), data)
                .finish()
                .unwrap(),
            "raw" => all(DeflateEncoder::new(Vec::new(), level), data)
                .finish()
                .unwrap(),
            _ => data.to_vec(),
        }
    }

    fn header(encoding: &str) -> &str {
        match encoding {
            "zlib" | "raw" => "deflate",
            e => e,
        }
    }

    /// The oracle: flate2's readers decode the whole stream, then the result is cut.
    fn oracle(encoding: &str, wire: &[u8], cap: usize) -> (Vec<u8>, bool) {
        use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
        use std::io::Read;
        let mut all = Vec::new();
        match encoding {
            "gzip" => GzDecoder::new(wire).read_to_end(&mut all),
            "zlib" => ZlibDecoder::new(wire).read_to_end(&mut all),
            "raw" => DeflateDecoder::new(wire).read_to_end(&mut all),
            _ => Ok(std::mem::replace(&mut all, wire.to_vec()).len()),
        }
        .unwrap();
        let cut = all.len() > cap;
        all.truncate(cap);
        (all, cut)
    }

    #[test]
    fn every_encoding_round_trips_and_the_cap_counts_decoded_bytes() {
        let data: Vec<u8> = (0..30_000)
            .map(|i| b"<a href=x>0123456789"[i % 20])
            .collect();
        for encoding in ["gzip", "x-gzip", "zlib", "raw", "identity"] {
            let wire = encode(encoding.trim_start_matches("x-"), &data);
            let (body, cut) = decode(Some(header(encoding)), &wire, 1 << 20).unwrap();
            assert_eq!((body == data, cut), (true, false), "{encoding}");
            let (body, cut) = decode(Some(header(encoding)), &wire, 1000).unwrap();
            assert_eq!((body.len(), cut), (1000, true), "{encoding}");
            assert!(data.starts_with(&body));
        }
        // Header names and values are compared loosely, as the real transport does.
        let wire = encode("gzip", b"hi");
        assert_eq!(decode(Some(" GZip "), &wire, 10).unwrap().0, b"hi");
        // Exactly at the cap is not a cut.
        assert_eq!(
            decode(None, b"12345", 5).unwrap(),
            (b"12345".to_vec(), false)
        );
    }

    #[test]
    fn unknown_encodings_are_kept_and_corrupt_data_is_an_error() {
        assert_eq!(decode(Some("br"), b"\x01\x02", 10).unwrap().0, b"\x01\x02");
        assert_eq!(decode(Some("gzip, br"), b"xy", 10).unwrap().0, b"xy");
        assert_eq!(decode(Some("deflate"), b"x", 10).unwrap().0, b"x");
        assert!(decode(Some("gzip"), b"this is not gzip at all", 100).is_err());
    }

    #[test]
    fn a_stream_cut_short_keeps_what_was_decoded() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for encoding in ["gzip", "zlib", "raw"] {
            let wire = encode(encoding, &data);
            let (body, cut) =
                decode(Some(header(encoding)), &wire[..wire.len() / 2], 1 << 20).unwrap();
            assert!(!cut);
            assert!(!body.is_empty() && data.starts_with(&body), "{encoding}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn decoding_matches_flate2s_readers(
            data in proptest::collection::vec(
                proptest::sample::select(b"ab<>\"= \n".to_vec()),
                0..20_000,
            ),
            encoding in proptest::sample::select(vec!["gzip", "zlib", "raw", "identity"]),
            cap in 1usize..25_000,
        ) {
            let wire = encode(encoding, &data);
            let got = decode(Some(header(encoding)), &wire, cap).unwrap();
            proptest::prop_assert_eq!(got, oracle(encoding, &wire, cap));
        }
    }
}
