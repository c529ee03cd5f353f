//! The states inside a tag: name, attribute names and values (with html5ever's `peek` before a
//! value), self-closing. Inlined into the main loop of [`super::Tokenizer`].

use super::{
    ATTR_NAME_STOP, DQ_STOP, Flow, NAME_STOP, Quote, REPLACEMENT, SQ_STOP, State, Tokenizer,
    UNQUOTED_STOP, get, scan,
};

impl Tokenizer<'_> {
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
