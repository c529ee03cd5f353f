//! Character references (`&amp;`, `&#65;`, `&#x41;`, `&not`), as html5ever 0.26 consumes them.
//!
//! The named table is markup5ever's (the very table the reference uses): the full HTML entity
//! list, legacy names without `;` included, with every prefix of a name present as a "keep
//! going" entry. The consumption order mirrors html5ever's `CharRefTokenizer` step by step —
//! `peek` without newline normalisation at the start and in numbers, normalised reads for names,
//! the matched tail pushed back — because those details decide what an attribute value ends up
//! holding, e.g. `&notit;` in an attribute stays literal (alphanumeric after a legacy match) while
//! in text it becomes `¬it;`.

use markup5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};

use super::input::Input;

/// What a character reference produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CharRef {
    /// UTF-8 bytes of the result (`&` when nothing matched).
    bytes: [u8; 8],
    /// How many of `bytes` are used.
    len: u8,
    /// A parse error was reported on the way.
    pub(super) error: bool,
}

impl CharRef {
    fn none(error: bool) -> CharRef {
        let mut bytes = [0; 8];
        bytes[0] = b'&';
        CharRef {
            bytes,
            len: 1,
            error,
        }
    }

    fn chars(c1: char, c2: Option<char>, error: bool) -> CharRef {
        let mut bytes = [0; 8];
        let n1 = c1.encode_utf8(&mut bytes).len();
        let n2 = c2.map_or(0, |c| c.encode_utf8(&mut bytes[n1..]).len());
        CharRef {
            bytes,
            len: (n1 + n2) as u8,
            error,
        }
    }

    /// The characters, UTF-8 encoded.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// Consumes a character reference after its `&`. `addnl` is the extra terminator of an attribute
/// value (its quote, or `>` when unquoted); `None` in text, which also turns off the attribute
/// rules for legacy names.
pub(super) fn consume(input: &mut Input<'_>, addnl: Option<u8>) -> CharRef {
    match input.peek() {
        None => CharRef::none(false),
        Some(b'\t' | b'\n' | b'\x0c' | b' ' | b'<' | b'&') => CharRef::none(false),
        Some(c) if Some(c) == addnl => CharRef::none(false),
        Some(b'#') => {
            input.get();
            numeric(input)
        }
        Some(_) => complete_name(input).unwrap_or_else(|| named(input, addnl)),
    }
}

/// The common case `&name;` with a complete entity name, decided in one lookup.
///
/// Reading name characters one at a time, the general algorithm below would walk through the
/// prefixes of `name;` (all in the table), match it, read one more character, find no entity
/// continues past `;`, and push that character back. The result is the same as consuming just
/// `name;` — except when that one extra character is a `\r`, whose normalisation interacts with
/// the pushback (see [`super::input`]); then, and whenever the input is not plain, the general
/// algorithm runs instead.
fn complete_name(input: &mut Input<'_>) -> Option<CharRef> {
    if !input.plain() {
        return None;
    }
    let rest = input.rest();
    let n = rest
        .iter()
        .take(40)
        .position(|b| !b.is_ascii_alphanumeric())?;
    if rest.get(n) != Some(&b';') || rest.get(n + 1) == Some(&b'\r') {
        return None;
    }
    let name = std::str::from_utf8(&rest[..=n]).ok()?;
    let &(c1, c2) = NAMED_ENTITIES.get(name)?;
    if c1 == 0 {
        return None;
    }
    input.skip(n + 1);
    let conv = |n: u32| char::from_u32(n).unwrap_or('\u{fffd}');
    Some(CharRef::chars(conv(c1), (c2 != 0).then(|| conv(c2)), false))
}

fn numeric(input: &mut Input<'_>) -> CharRef {
    let (base, marker) = match input.peek() {
        Some(c @ (b'x' | b'X')) => {
            input.get();
            (16, Some(c))
        }
        // End of input right after `&#`: the `#` goes back, as for "no digits".
        None => {
            input.push_front(b"#");
            return CharRef::none(true);
        }
        Some(_) => (10, None),
    };
    let mut value: u32 = 0;
    let mut seen_digit = false;
    loop {
        let digit = input.peek().and_then(|c| (c as char).to_digit(base));
        match digit {
            Some(d) => {
                input.get();
                // Saturate: anything past U+10FFFF is invalid whatever follows.
                value = value.saturating_mul(base).saturating_add(d).min(0x11_0000);
                seen_digit = true;
            }
            None if !seen_digit => {
                match marker {
                    Some(m) => input.push_front(&[b'#', m]),
                    None => input.push_front(b"#"),
                }
                return CharRef::none(true);
            }
            None => break,
        }
    }
    let mut error = false;
    match input.peek() {
        Some(b';') => {
            input.get();
        }
        // Missing semicolon, or end of input: both are reported.
        _ => error = true,
    }
    let (c, bad) = numeric_value(value);
    CharRef::chars(c, None, error || bad)
}

/// The character for a numeric reference, and whether it is a parse error.
fn numeric_value(n: u32) -> (char, bool) {
    let conv = |n: u32| char::from_u32(n).unwrap_or('\u{fffd}');
    match n {
        n if n > 0x10_ffff => ('\u{fffd}', true),
        0x00 | 0xd800..=0xdfff => ('\u{fffd}', true),
        0x80..=0x9f => (
            C1_REPLACEMENTS[(n - 0x80) as usize].unwrap_or_else(|| conv(n)),
            true,
        ),
        0x01..=0x08 | 0x0b | 0x0d..=0x1f | 0x7f | 0xfdd0..=0xfdef => (conv(n), true),
        n if (n & 0xfffe) == 0xfffe => (conv(n), true),
        n => (conv(n), false),
    }
}

fn lookup(name: &[u8]) -> Option<(u32, u32)> {
    // Entity names are ASCII; a buffer that is not valid UTF-8 is no prefix of any.
    std::str::from_utf8(name)
        .ok()
        .and_then(|s| NAMED_ENTITIES.get(s).copied())
}

fn named(input: &mut Input<'_>, addnl: Option<u8>) -> CharRef {
    let mut buf: Vec<u8> = Vec::with_capacity(8);
    // Longest full match so far: its value and its length in `buf`.
    let mut matched: Option<((u32, u32), usize)> = None;
    let end_char = loop {
        let Some(c) = input.get() else {
            break None;
        };
        buf.push(c);
        match lookup(&buf) {
            Some(m) => {
                if m.0 != 0 {
                    matched = Some((m, buf.len()));
                }
            }
            None => break Some(c),
        }
    };
    let Some(((c1, c2), len)) = matched else {
        let mut error = false;
        match end_char {
            Some(c) if c.is_ascii_alphanumeric() => return bogus_name(input, buf),
            Some(b';') if buf.len() > 1 => error = true,
            _ => {}
        }
        input.push_front(&buf);
        return CharRef::none(error);
    };
    let last_matched = buf[len - 1];
    let next_after = buf.get(len).copied();
    let (unconsume_all, error) = match (addnl, last_matched, next_after) {
        (_, b';', _) => (false, false),
        (Some(_), _, Some(b'=')) => (true, true),
        (Some(_), _, Some(c)) if c.is_ascii_alphanumeric() => (true, false),
        _ => (false, true),
    };
    if unconsume_all {
        input.push_front(&buf);
        return CharRef::none(error);
    }
    input.push_front(&buf[len..]);
    let conv = |n: u32| char::from_u32(n).unwrap_or('\u{fffd}');
    CharRef::chars(conv(c1), (c2 != 0).then(|| conv(c2)), error)
}

/// After `&` and alphanumerics that match no entity: read on to the end of the alphanumerics
/// (a `;` there is an error), then give everything back.
fn bogus_name(input: &mut Input<'_>, mut buf: Vec<u8>) -> CharRef {
    let mut error = false;
    while let Some(c) = input.get() {
        buf.push(c);
        if c.is_ascii_alphanumeric() {
            continue;
        }
        error = c == b';';
        break;
    }
    input.push_front(&buf);
    CharRef::none(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes the reference at the start of `text` (after its `&`) and returns the result and
    /// what is left to read.
    fn check(text: &str, addnl: Option<u8>, expected: &str, rest: &str) {
        let mut input = Input::new(text.as_bytes());
        let r = consume(&mut input, addnl);
        let left: Vec<u8> = std::iter::from_fn(|| input.get()).collect();
        assert_eq!(
            (std::str::from_utf8(r.as_bytes()).unwrap(), left.as_slice()),
            (expected, rest.as_bytes()),
            "input {text:?}"
        );
    }

    #[test]
    fn named_references() {
        check("amp;x", None, "&", "x");
        check("amp x", None, "&", " x");
        check("lt", None, "<", "");
        check("notit;", None, "\u{ac}", "it;");
        check("notin;", None, "\u{2209}", "");
        check("notit;", Some(b'"'), "&", "notit;");
        check("amp=1", Some(b'"'), "&", "amp=1");
        check("amp=1", None, "&", "=1");
        check("ampx", Some(b'"'), "&", "ampx");
        check("nosuch;", None, "&", "nosuch;");
        check("NotEqualTilde;", None, "\u{2242}\u{338}", "");
        check("\r\nx", None, "&", "\nx");
    }

    #[test]
    fn numeric_references() {
        check("#65;", None, "A", "");
        check("#x41x", None, "A", "x");
        check("#X41;", None, "A", "");
        check("#;", None, "&", "#;");
        check("#x;", None, "&", "#x;");
        check("#", None, "&", "#");
        check("#0;", None, "\u{fffd}", "");
        check("#x110000;", None, "\u{fffd}", "");
        check("#99999999999999999999;", None, "\u{fffd}", "");
        check("#x80;", None, "\u{20ac}", "");
        check("#x81;", None, "\u{81}", "");
        check("#xD800;", None, "\u{fffd}", "");
        check("#13;", None, "\r", "");
    }

    #[test]
    fn nothing_to_decode() {
        check(" x", None, "&", " x");
        check("\"", Some(b'"'), "&", "\"");
        check("", None, "&", "");
    }
}
