//! The states inside a tag: name, attribute names and values (with html5ever's `peek` before a
//! value), self-closing. Inlined into the main loop of [`super::Tokenizer`].

use super::{
    ATTR_NAME_STOP, DQ_STOP, Flow, NAME_STOP, Quote, REPLACEMENT, SQ_STOP, State, Tokenizer,
    UNQUOTED_STOP, get, scan,
};

/// Whitespace inside a tag as the tag states see it. Unlike [`super::super::token::is_space`]
/// it has no `\r`: the states see a `\r` only after newline normalisation, so a tag with one is
/// left to them.
fn is_tag_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b' ')
}

impl Tokenizer<'_> {
    /// Reads a whole tag of the common shape in one pass over the body, just after its `<` or
    /// `</`: a name, then attributes written `name`, `name="value"`, `name='value'` or
    /// `name=value`, separated by whitespace, then `>` or `/>`, with no `&`, `\r` or NUL anywhere
    /// and the whole tag in the body. Such a tag goes through the states above without a
    /// character reference, a newline to normalise, a pushed-back byte or a parse error that
    /// matters, and this makes the same name, attributes and buffer contents with the same
    /// helpers, then emits it. `None`, with nothing consumed and nothing kept, for anything
    /// else: the states read the tag from its first byte.
    #[inline(always)]
    pub(super) fn fast_tag(&mut self, kind: super::Kind) -> Option<Flow> {
        if !self.input.plain() {
            return None;
        }
        let (buf, attrs) = (self.buf.len(), self.attrs.len());
        let done = self.fast_tag_len(kind);
        if done.is_none() {
            self.buf.truncate(buf);
            self.attrs.truncate(attrs);
            self.attr = None;
        }
        let n = done?;
        self.input.skip(n);
        Some(self.emit_tag())
    }

    /// The body of [`Tokenizer::fast_tag`]: builds the tag and gives its length, or `None`.
    #[inline(always)]
    fn fast_tag_len(&mut self, kind: super::Kind) -> Option<usize> {
        let rest = self.input.rest();
        let first = *rest.first()?;
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let mut i = scan(rest, &NAME_STOP);
        if matches!(rest.get(i), None | Some(b'\0' | b'\r')) {
            return None;
        }
        self.create_tag(kind, first.to_ascii_lowercase());
        self.name
            .extend(rest[1..i].iter().map(|b| b.to_ascii_lowercase()));
        loop {
            // After the name or a value: the end, or whitespace before another attribute.
            match *rest.get(i)? {
                b'>' => return Some(i + 1),
                b'/' => {
                    if rest.get(i + 1) != Some(&b'>') {
                        return None;
                    }
                    self.self_closing = true;
                    return Some(i + 2);
                }
                b if is_tag_space(b) => {}
                _ => return None,
            }
            while rest.get(i).is_some_and(|&b| is_tag_space(b)) {
                i += 1;
            }
            match *rest.get(i)? {
                b'>' | b'/' => continue,
                b'=' | b'\0' | b'\r' | b'&' => return None,
                _ => {}
            }
            // An attribute name (what stops it is not part of it).
            let n = scan(&rest[i..], &ATTR_NAME_STOP);
            self.create_attr(&[]);
            let start = self.buf.len();
            self.buf.extend_from_slice(&rest[i..i + n]);
            self.buf[start..].make_ascii_lowercase();
            self.push_name(&[]);
            i += n;
            if rest.get(i) != Some(&b'=') {
                // No value: whitespace, `/` or `>` come next (anything else stopped nothing).
                continue;
            }
            i += 1;
            let quote = *rest.get(i)?;
            let (stop, skip) = match quote {
                b'"' => (&DQ_STOP, 1),
                b'\'' => (&SQ_STOP, 1),
                b'>' | b'\0' | b'\r' | b'&' => return None,
                b if is_tag_space(b) => return None,
                _ => (&UNQUOTED_STOP, 0),
            };
            let from = i + skip;
            let n = scan(&rest[from..], stop);
            let end = *rest.get(from + n)?;
            if skip == 1 && end != quote || skip == 0 && !(is_tag_space(end) || end == b'>') {
                return None;
            }
            self.push_value(&[]);
            self.push_value(&rest[from..from + n]);
            i = from + n + skip;
        }
    }

    #[inline(always)]
    pub(super) fn tag_name(&mut self) -> Flow {
        loop {
            if self.input.plain() {
                let rest = self.input.rest();
                let n = scan(rest, &NAME_STOP);
                self.name
                    .extend(rest[..n].iter().map(|b| b.to_ascii_lowercase()));
                self.input.skip(n);
            }
            match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {
                    self.state = State::BeforeAttributeName;
                    return Flow::Continue;
                }
                b'/' => {
                    self.state = State::SelfClosingStartTag;
                    return Flow::Continue;
                }
                b'>' => return self.emit_tag(),
                b'\0' => {
                    self.error();
                    self.name.extend_from_slice(REPLACEMENT);
                }
                c => self.name.push(c.to_ascii_lowercase()),
            }
        }
    }

    #[inline(always)]
    pub(super) fn before_attribute_name(&mut self) -> Flow {
        loop {
            match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {}
                b'/' => {
                    self.state = State::SelfClosingStartTag;
                    return Flow::Continue;
                }
                b'>' => return self.emit_tag(),
                b'\0' => {
                    self.error();
                    self.create_attr(REPLACEMENT);
                    self.state = State::AttributeName;
                    return Flow::Continue;
                }
                c => {
                    if matches!(c, b'"' | b'\'' | b'<' | b'=') {
                        self.error();
                    }
                    self.create_attr(&[c.to_ascii_lowercase()]);
                    self.state = State::AttributeName;
                    return Flow::Continue;
                }
            }
        }
    }

    #[inline(always)]
    pub(super) fn attribute_name(&mut self) -> Flow {
        loop {
            if self.input.plain() {
                let rest = self.input.rest();
                let n = scan(rest, &ATTR_NAME_STOP);
                if n > 0 {
                    let start = self.buf.len();
                    self.buf.extend_from_slice(&rest[..n]);
                    self.buf[start..].make_ascii_lowercase();
                    self.push_name(&[]);
                    self.input.skip(n);
                }
            }
            match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {
                    self.state = State::AfterAttributeName;
                    return Flow::Continue;
                }
                b'/' => {
                    self.state = State::SelfClosingStartTag;
                    return Flow::Continue;
                }
                b'=' => {
                    self.state = State::BeforeAttributeValue;
                    return Flow::Continue;
                }
                b'>' => return self.emit_tag(),
                b'\0' => {
                    self.error();
                    self.push_name(REPLACEMENT);
                }
                c => {
                    if matches!(c, b'"' | b'\'' | b'<') {
                        self.error();
                    }
                    self.push_name(&[c.to_ascii_lowercase()]);
                }
            }
        }
    }

    #[inline(always)]
    pub(super) fn after_attribute_name(&mut self) -> Flow {
        loop {
            match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {}
                b'/' => {
                    self.state = State::SelfClosingStartTag;
                    return Flow::Continue;
                }
                b'=' => {
                    self.state = State::BeforeAttributeValue;
                    return Flow::Continue;
                }
                b'>' => return self.emit_tag(),
                b'\0' => {
                    self.error();
                    self.create_attr(REPLACEMENT);
                    self.state = State::AttributeName;
                    return Flow::Continue;
                }
                c => {
                    if matches!(c, b'"' | b'\'' | b'<') {
                        self.error();
                    }
                    self.create_attr(&[c.to_ascii_lowercase()]);
                    self.state = State::AttributeName;
                    return Flow::Continue;
                }
            }
        }
    }

    #[inline(always)]
    pub(super) fn before_attribute_value(&mut self) -> Flow {
        loop {
            // `peek`, not `get`: a raw `\r` here is whitespace, and consuming it sets the flag
            // that makes the next read skip a `\n` and take the byte after it.
            let Some(c) = self.input.peek() else {
                return Flow::Suspend;
            };
            match c {
                b'\t' | b'\n' | b'\r' | b'\x0c' | b' ' => {
                    self.input.get();
                }
                b'"' => {
                    self.input.get();
                    self.state = State::AttributeValue(Quote::Double);
                    return Flow::Continue;
                }
                b'\'' => {
                    self.input.get();
                    self.state = State::AttributeValue(Quote::Single);
                    return Flow::Continue;
                }
                b'\0' => {
                    self.input.get();
                    self.error();
                    self.push_value(REPLACEMENT);
                    self.state = State::AttributeValue(Quote::Unquoted);
                    return Flow::Continue;
                }
                b'>' => {
                    self.input.get();
                    self.error();
                    return self.emit_tag();
                }
                _ => {
                    self.state = State::AttributeValue(Quote::Unquoted);
                    return Flow::Continue;
                }
            }
        }
    }

    #[inline(always)]
    pub(super) fn attribute_value(&mut self, quote: Quote) -> Flow {
        // Mark the value as present even when it stays empty (`href=""`).
        self.push_value(&[]);
        let stop = match quote {
            Quote::Double => &DQ_STOP,
            Quote::Single => &SQ_STOP,
            Quote::Unquoted => &UNQUOTED_STOP,
        };
        loop {
            if self.input.plain() {
                let rest = self.input.rest();
                let n = scan(rest, stop);
                if n > 0 {
                    self.push_value(&rest[..n]);
                    self.input.skip(n);
                }
            }
            let c = get!(self);
            match (quote, c) {
                (Quote::Double, b'"') | (Quote::Single, b'\'') => {
                    self.state = State::AfterAttributeValueQuoted;
                    return Flow::Continue;
                }
                (Quote::Unquoted, b'\t' | b'\n' | b'\x0c' | b' ') => {
                    self.state = State::BeforeAttributeName;
                    return Flow::Continue;
                }
                (Quote::Unquoted, b'>') => return self.emit_tag(),
                (_, b'&') => self.char_ref_in_value(match quote {
                    Quote::Double => b'"',
                    Quote::Single => b'\'',
                    Quote::Unquoted => b'>',
                }),
                (_, b'\0') => {
                    self.error();
                    self.push_value(REPLACEMENT);
                }
                (_, c) => self.push_value(&[c]),
            }
        }
    }

    #[inline(always)]
    pub(super) fn after_attribute_value_quoted(&mut self) -> Flow {
        match get!(self) {
            b'\t' | b'\n' | b'\x0c' | b' ' => self.state = State::BeforeAttributeName,
            b'/' => self.state = State::SelfClosingStartTag,
            b'>' => return self.emit_tag(),
            _ => {
                self.error();
                self.input.unget();
                self.state = State::BeforeAttributeName;
            }
        }
        Flow::Continue
    }

    #[inline(always)]
    pub(super) fn self_closing_start_tag(&mut self) -> Flow {
        match get!(self) {
            b'>' => {
                self.self_closing = true;
                return self.emit_tag();
            }
            _ => {
                self.error();
                self.input.unget();
                self.state = State::BeforeAttributeName;
            }
        }
        Flow::Continue
    }
}
