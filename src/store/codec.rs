//! A completion in bytes: a compact, hand-written binary form for stores that keep completions
//! on disk or send them over a wire ([`Kept::encode`], [`super::KeptRef::encode`],
//! [`Kept::decode`]).
//!
//! Why not serde: a store encodes one completion per finished URL, on the crawl's thread or
//! beside it, and a page's completion is mostly its links. This form writes the links as the
//! [`KeptLinks`] text they are kept as (one length and one copy), numbers as LEB128 varints,
//! and nothing else: no keys, no escaping, no allocation but the output's growth. The URL is
//! left out: a store keys its completions by it, and hands it back to [`Kept::decode`].
//!
//! The layout, in order: the version byte ([`VERSION`]); the fetch kind (one byte); the
//! record (presence flags, flags, then each present field); the outcome: `0`, the error's kind
//! and message, or `1`, the status, the read header fields, the body, its length, flags, and the
//! links if any (presence, base, meta robots, the hrefs with a 4-byte length, why reading
//! stopped). Strings are a varint length and UTF-8 bytes. Decoding checks every length, tag
//! and string: bytes that do not read (a damaged or foreign store) are an error, never a
//! panic, and so are bytes left over.

use bytes::Bytes;

use super::{KINDS, Kept, KeptLinks, KeptResponse, is_read_field};
use crate::engine::FetchKind;
use crate::links::{Link, Robots};
use crate::report::Record;
use crate::transport::{FetchError, FetchErrorKind};

/// The first byte of every encoded completion: this layout's version.
pub const VERSION: u8 = 1;

/// The fetch kinds, by their byte.
const FETCHES: [FetchKind; 4] = [
    FetchKind::Page,
    FetchKind::Redirect,
    FetchKind::Robots,
    FetchKind::Sitemap,
];

/// The error kinds, by their byte.
pub(super) const ERRORS: [FetchErrorKind; 7] = [
    FetchErrorKind::Connect,
    FetchErrorKind::Dns,
    FetchErrorKind::Other,
    FetchErrorKind::Protocol,
    FetchErrorKind::Reset,
    FetchErrorKind::Timeout,
    FetchErrorKind::Tls,
];

/// An answer's parts, borrowed from a [`Kept`] or from the engine's response.
pub(super) struct Answer<'a> {
    pub(super) status: u16,
    pub(super) headers: &'a [(String, String)],
    pub(super) body: &'a [u8],
    pub(super) body_len: u64,
    pub(super) truncated: bool,
    pub(super) body_skipped: bool,
    pub(super) links: Option<LinkParts<'a>>,
}

/// A page's links, borrowed.
pub(super) struct LinkParts<'a> {
    pub(super) base: Option<&'a str>,
    pub(super) robots: Robots,
    pub(super) hrefs: Hrefs<'a>,
    pub(super) why: Option<&'a str>,
}

/// A page's links as found, or already in their [`KeptLinks`] text.
pub(super) enum Hrefs<'a> {
    Found(&'a [Link]),
    Text(&'a str),
}

/// Appends the encoded completion (everything but the URL) to `out`.
pub(super) fn encode(
    out: &mut Vec<u8>,
    record: &Record,
    fetch: FetchKind,
    outcome: Result<Answer<'_>, &FetchError>,
) {
    out.push(VERSION);
    out.push(position(&FETCHES, &fetch));
    encode_record(out, record);
    match outcome {
        Err(e) => {
            out.push(0);
            out.push(position(&ERRORS, &e.kind));
            string(out, &e.message);
        }
        Ok(a) => {
            out.push(1);
            varint(out, u64::from(a.status));
            let read = |(name, _): &&(String, String)| is_read_field(name);
            varint(out, a.headers.iter().filter(read).count() as u64);
            for (name, value) in a.headers.iter().filter(read) {
                string(out, name);
                string(out, value);
            }
            varint(out, a.body.len() as u64);
            out.extend_from_slice(a.body);
            varint(out, a.body_len);
            out.push(u8::from(a.truncated) | u8::from(a.body_skipped) << 1);
            match a.links {
                None => out.push(0),
                Some(l) => {
                    out.push(1);
                    optional(out, l.base);
                    out.push(u8::from(l.robots.noindex) | u8::from(l.robots.nofollow) << 1);
                    hrefs(out, l.hrefs);
                    optional(out, l.why);
                }
            }
        }
    }
}

fn encode_record(out: &mut Vec<u8>, record: &Record) {
    // Every field named: a field added to the record does not compile until it is kept.
    let Record {
        url: _,
        status,
        location,
        error,
        tries,
        content_type,
        size,
        links,
        new_links,
        depth,
        truncated,
        noindex,
    } = record;
    let present = [
        status.is_some(),
        location.is_some(),
        error.is_some(),
        content_type.is_some(),
        size.is_some(),
        links.is_some(),
        new_links.is_some(),
    ];
    out.push(
        present
            .iter()
            .rev()
            .fold(0, |bits, &p| bits << 1 | u8::from(p)),
    );
    out.push(u8::from(*truncated) | u8::from(*noindex) << 1);
    varint(out, u64::from(*tries));
    varint(out, u64::from(*depth));
    if let Some(v) = status {
        varint(out, u64::from(*v));
    }
    for s in [location, error, content_type].into_iter().flatten() {
        string(out, s);
    }
    if let Some(v) = size {
        varint(out, *v);
    }
    for v in [links, new_links].into_iter().flatten() {
        varint(out, u64::from(*v));
    }
}

/// The hrefs as [`KeptLinks`] text, after a 4-byte length (written last for found links).
fn hrefs(out: &mut Vec<u8>, hrefs: Hrefs<'_>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    match hrefs {
        Hrefs::Text(text) => out.extend_from_slice(text.as_bytes()),
        Hrefs::Found(links) => write_hrefs(out, links),
    }
    let len = u32::try_from(out.len() - at - 4).expect("a page's links under 4 GiB");
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// `links` in the [`KeptLinks`] text form: each link's kind letter (upper case for
/// `rel=nofollow`), its URL's length in bytes, `:`, the URL. The one writer of that form.
pub(super) fn write_hrefs(out: &mut Vec<u8>, links: &[Link]) {
    for link in links {
        let (_, c) = KINDS
            .iter()
            .find(|(k, _)| *k == link.kind)
            .expect("every kind");
        let c = if link.nofollow {
            c.to_ascii_uppercase()
        } else {
            *c
        };
        out.push(c as u8);
        decimal(out, link.url.len());
        out.push(b':');
        out.extend_from_slice(link.url.as_bytes());
    }
}

fn position<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter()
        .position(|y| y == x)
        .expect("every variant listed") as u8
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn decimal(out: &mut Vec<u8>, mut v: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            string(out, s);
        }
    }
}

/// Reads an encoded completion (see [`encode`]) of `url`.
pub(super) fn decode(url: &str, bytes: &[u8]) -> Result<Kept, String> {
    let mut r = Reader { rest: bytes };
    let version = r.byte()?;
    if version != VERSION {
        return Err(format!(
            "kept completion: format {version}, not {VERSION} (written by another version)"
        ));
    }
    let fetch = *FETCHES
        .get(usize::from(r.byte()?))
        .ok_or("unknown fetch kind")?;
    let record = decode_record(&mut r, url)?;
    let outcome = match r.byte()? {
        0 => {
            let kind = *ERRORS
                .get(usize::from(r.byte()?))
                .ok_or("unknown error kind")?;
            Err(FetchError::new(kind, r.string()?))
        }
        1 => Ok(decode_answer(&mut r)?),
        _ => return Err("kept completion: unknown outcome".into()),
    };
    if !r.rest.is_empty() {
        return Err(format!("kept completion: {} bytes too many", r.rest.len()));
    }
    Ok(Kept {
        record,
        fetch,
        outcome,
    })
}

fn decode_record(r: &mut Reader<'_>, url: &str) -> Result<Record, String> {
    let present = r.byte()?;
    let has = |bit: u8| present & 1 << bit != 0;
    let flags = r.byte()?;
    let tries = r.number()?;
    let depth = r.number()?;
    let status = if has(0) { Some(r.number()?) } else { None };
    let mut text = |bit| {
        if has(bit) {
            r.string().map(Some)
        } else {
            Ok(None)
        }
    };
    let (location, error, content_type) = (text(1)?, text(2)?, text(3)?);
    let size = if has(4) { Some(r.varint()?) } else { None };
    let links = if has(5) { Some(r.number()?) } else { None };
    let new_links = if has(6) { Some(r.number()?) } else { None };
    Ok(Record {
        url: url.to_string(),
        status,
        location,
        error,
        tries,
        content_type,
        size,
        links,
        new_links,
        depth,
        truncated: flags & 1 != 0,
        noindex: flags & 2 != 0,
    })
}

fn decode_answer(r: &mut Reader<'_>) -> Result<KeptResponse, String> {
    let status = r.number()?;
    let fields = r.varint()?;
    let mut headers = Vec::new();
    for _ in 0..fields {
        headers.push((r.string()?, r.string()?));
    }
    let len = r.len()?;
    let body = Bytes::copy_from_slice(r.take(len)?);
    let body_len = r.varint()?;
    let flags = r.byte()?;
    let links = match r.byte()? {
        0 => None,
        1 => {
            let base = r.optional()?;
            let robots = r.byte()?;
            let len = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes")) as usize;
            let hrefs = r.utf8(len)?;
            Some(KeptLinks {
                base,
                robots: Robots {
                    noindex: robots & 1 != 0,
                    nofollow: robots & 2 != 0,
                },
                hrefs,
                why: r.optional()?,
            })
        }
        _ => return Err("kept completion: unknown links tag".into()),
    };
    Ok(KeptResponse {
        status,
        headers,
        body,
        body_len,
        truncated: flags & 1 != 0,
        body_skipped: flags & 2 != 0,
        links,
    })
}

/// What is left of an encoded completion.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.rest.len() {
            return Err("kept completion: cut short".into());
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("kept completion: a number too long".into())
    }

    /// A varint that must fit `T` (a status, a count).
    fn number<T: TryFrom<u64>>(&mut self) -> Result<T, String> {
        let v = self.varint()?;
        T::try_from(v).map_err(|_| format!("kept completion: {v} out of range"))
    }

    fn len(&mut self) -> Result<usize, String> {
        self.number()
    }

    fn utf8(&mut self, len: usize) -> Result<String, String> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "kept completion: not UTF-8".into())
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.len()?;
        self.utf8(len)
    }

    fn optional(&mut self) -> Result<Option<String>, String> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err("kept completion: unknown option tag".into()),
        }
    }
}
