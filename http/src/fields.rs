//! Response heads as they arrived, carried past http-types.
//!
//! surf's `Response` is an `http_types::Response`, which keeps header fields in a hash map (whose
//! order changes from run to run), admits only ASCII values, and only the status codes it has
//! names for. Both backends therefore also put the head as it arrived into the response's
//! extensions as a [`RawHead`], and the transport reads that.

/// The status code and header fields of a response, in arrival order, names lowercased, values
/// as text (UTF-8 kept, other bytes percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawHead {
    /// The status code as received (http-types may not know it).
    pub status: u16,
    /// Header fields in arrival order.
    pub fields: Vec<(String, String)>,
}

/// A header value as text: UTF-8 as it is, anything else percent-encoded byte by byte.
pub(crate) fn header_text(bytes: &[u8]) -> String {
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
        assert_eq!(header_text("café".as_bytes()), "café");
        assert_eq!(header_text(b"caf\xe9"), "caf%E9");
    }
}
