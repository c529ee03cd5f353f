//! Raw text states: RCDATA (`title`, `textarea`), RAWTEXT (`style`, `xmp`, `iframe`, ...),
//! script data with its `<!--` escapes, and PLAINTEXT.
//!
//! What matters here is where the raw text ends — only at the "appropriate" end tag, the one
//! matching the last start tag — since `<a href>` inside a `<script>` or a `<title>` is text.
//! The text itself goes to the tree builder, which (being in its `Text` mode, or in body for
//! PLAINTEXT) only looks at it for whitespace.

use super::super::token::{Escape, Kind, RawKind};
use super::{Flow, REPLACEMENT, State, Tokenizer, get};

impl Tokenizer<'_> {
    pub(super) fn raw_step(&mut self) -> Flow {
        match self.state {
            State::Plaintext => self.raw_data(None),
            State::RawData(kind) => self.raw_data(Some(kind)),
            State::RawLessThanSign(kind) => self.raw_less_than_sign(kind),
            State::RawEndTagOpen(kind) => {
                let c = get!(self);
                if c.is_ascii_alphabetic() {
                    self.create_tag(Kind::End, c.to_ascii_lowercase());
                    self.temp.push(c);
                    self.state = State::RawEndTagName(kind);
                } else {
                    self.emit(b"</");
                    self.input.unget();
                    self.state = State::RawData(kind);
                }
                Flow::Continue
            }
            State::RawEndTagName(kind) => self.raw_end_tag_name(kind),
            State::ScriptDataEscapeStart(Escape::DoubleEscaped) => loop {
                let c = get!(self);
                match c {
                    b'\t' | b'\n' | b'\x0c' | b' ' | b'/' | b'>' => {
                        let esc = if self.temp == b"script" {
                            Escape::DoubleEscaped
                        } else {
                            Escape::Escaped
                        };
                        self.emit_byte(c);
                        self.state = State::RawData(RawKind::ScriptDataEscaped(esc));
                        return Flow::Continue;
                    }
                    c if c.is_ascii_alphabetic() => {
                        self.temp.push(c.to_ascii_lowercase());
                        self.emit_byte(c);
                    }
                    _ => {
                        self.input.unget();
                        self.state = State::RawData(RawKind::ScriptDataEscaped(Escape::Escaped));
                        return Flow::Continue;
                    }
                }
            },
            State::ScriptDataEscapeStart(Escape::Escaped) => {
                if get!(self) == b'-' {
                    self.emit(b"-");
                    self.state = State::ScriptDataEscapeStartDash;
                } else {
                    self.input.unget();
                    self.state = State::RawData(RawKind::ScriptData);
                }
                Flow::Continue
            }
            State::ScriptDataEscapeStartDash => {
                if get!(self) == b'-' {
                    self.emit(b"-");
                    self.state = State::ScriptDataEscapedDashDash(Escape::Escaped);
                } else {
                    self.input.unget();
                    self.state = State::RawData(RawKind::ScriptData);
                }
                Flow::Continue
            }
            State::ScriptDataEscapedDash(kind) => {
                let escaped = State::RawData(RawKind::ScriptDataEscaped(kind));
                match get!(self) {
                    b'-' => {
                        self.emit(b"-");
                        self.state = State::ScriptDataEscapedDashDash(kind);
                    }
                    b'<' => {
                        if kind == Escape::DoubleEscaped {
                            self.emit(b"<");
                        }
                        self.state = State::RawLessThanSign(RawKind::ScriptDataEscaped(kind));
                    }
                    b'\0' => {
                        self.error();
                        self.emit(REPLACEMENT);
                        self.state = escaped;
                    }
                    c => {
                        self.emit_byte(c);
                        self.state = escaped;
                    }
                }
                Flow::Continue
            }
            State::ScriptDataEscapedDashDash(kind) => loop {
                let escaped = State::RawData(RawKind::ScriptDataEscaped(kind));
                match get!(self) {
                    b'-' => self.emit(b"-"),
                    b'<' => {
                        if kind == Escape::DoubleEscaped {
                            self.emit(b"<");
                        }
                        self.state = State::RawLessThanSign(RawKind::ScriptDataEscaped(kind));
                        return Flow::Continue;
                    }
                    b'>' => {
                        self.emit(b">");
                        self.state = State::RawData(RawKind::ScriptData);
                        return Flow::Continue;
                    }
                    b'\0' => {
                        self.error();
                        self.emit(REPLACEMENT);
                        self.state = escaped;
                        return Flow::Continue;
                    }
                    c => {
                        self.emit_byte(c);
                        self.state = escaped;
                        return Flow::Continue;
                    }
                }
            },
            State::ScriptDataDoubleEscapeEnd => loop {
                let c = get!(self);
                match c {
                    b'\t' | b'\n' | b'\x0c' | b' ' | b'/' | b'>' => {
                        let esc = if self.temp == b"script" {
                            Escape::Escaped
                        } else {
                            Escape::DoubleEscaped
                        };
                        self.emit_byte(c);
                        self.state = State::RawData(RawKind::ScriptDataEscaped(esc));
                        return Flow::Continue;
                    }
                    c if c.is_ascii_alphabetic() => {
                        self.temp.push(c.to_ascii_lowercase());
                        self.emit_byte(c);
                    }
                    _ => {
                        self.input.unget();
                        self.state =
                            State::RawData(RawKind::ScriptDataEscaped(Escape::DoubleEscaped));
                        return Flow::Continue;
                    }
                }
            },
            _ => unreachable!("not a raw text state: {:?}", self.state),
        }
    }

    /// RCDATA, RAWTEXT, script data (escaped or not) and PLAINTEXT (`None`).
    fn raw_data(&mut self, kind: Option<RawKind>) -> Flow {
        loop {
            if self.input.plain() {
                let rest = self.input.rest();
                let n = match kind {
                    None => memchr::memchr(b'\0', rest),
                    Some(RawKind::Rcdata) => memchr::memchr3(b'<', b'&', b'\0', rest),
                    Some(RawKind::Rawtext | RawKind::ScriptData) => {
                        memchr::memchr2(b'<', b'\0', rest)
                    }
                    Some(RawKind::ScriptDataEscaped(_)) => memchr::memchr3(b'<', b'-', b'\0', rest),
                }
                .unwrap_or(rest.len());
                if n > 0 {
                    self.input.skip(n);
                    self.emit(&rest[..n]);
                }
            }
            let c = get!(self);
            match (kind, c) {
                (_, b'\0') => {
                    self.error();
                    self.emit(REPLACEMENT);
                }
                (Some(RawKind::Rcdata), b'&') => self.char_ref_in_text(),
                (Some(RawKind::ScriptDataEscaped(esc)), b'-') => {
                    self.emit(b"-");
                    self.state = State::ScriptDataEscapedDash(esc);
                    return Flow::Continue;
                }
                (Some(RawKind::ScriptDataEscaped(Escape::DoubleEscaped)), b'<') => {
                    self.emit(b"<");
                    self.state =
                        State::RawLessThanSign(RawKind::ScriptDataEscaped(Escape::DoubleEscaped));
                    return Flow::Continue;
                }
                (Some(kind), b'<') => {
                    self.state = State::RawLessThanSign(kind);
                    return Flow::Continue;
                }
                (_, c) => self.emit_byte(c),
            }
        }
    }

    fn raw_less_than_sign(&mut self, kind: RawKind) -> Flow {
        let c = get!(self);
        match kind {
            RawKind::ScriptDataEscaped(Escape::Escaped) => match c {
                b'/' => {
                    self.temp.clear();
                    self.state = State::RawEndTagOpen(kind);
                }
                c if c.is_ascii_alphabetic() => {
                    self.temp.clear();
                    self.temp.push(c.to_ascii_lowercase());
                    self.emit(b"<");
                    self.emit_byte(c);
                    self.state = State::ScriptDataEscapeStart(Escape::DoubleEscaped);
                }
                _ => {
                    self.emit(b"<");
                    self.input.unget();
                    self.state = State::RawData(kind);
                }
            },
            RawKind::ScriptDataEscaped(Escape::DoubleEscaped) => match c {
                b'/' => {
                    self.temp.clear();
                    self.emit(b"/");
                    self.state = State::ScriptDataDoubleEscapeEnd;
                }
                _ => {
                    self.input.unget();
                    self.state = State::RawData(kind);
                }
            },
            _ => match c {
                b'/' => {
                    self.temp.clear();
                    self.state = State::RawEndTagOpen(kind);
                }
                b'!' if kind == RawKind::ScriptData => {
                    self.emit(b"<!");
                    self.state = State::ScriptDataEscapeStart(Escape::Escaped);
                }
                _ => {
                    self.emit(b"<");
                    self.input.unget();
                    self.state = State::RawData(kind);
                }
            },
        }
        Flow::Continue
    }

    fn raw_end_tag_name(&mut self, kind: RawKind) -> Flow {
        loop {
            let c = get!(self);
            if self.name == self.last_start {
                match c {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {
                        self.state = State::BeforeAttributeName;
                        return Flow::Continue;
                    }
                    b'/' => {
                        self.state = State::SelfClosingStartTag;
                        return Flow::Continue;
                    }
                    b'>' => return self.emit_tag(),
                    _ => {}
                }
            }
            if c.is_ascii_alphabetic() {
                self.name.push(c.to_ascii_lowercase());
                self.temp.push(c);
            } else {
                self.emit(b"</");
                let mut temp = std::mem::take(&mut self.temp);
                self.emit(&temp);
                temp.clear();
                self.temp = temp;
                self.input.unget();
                self.state = State::RawData(kind);
                return Flow::Continue;
            }
        }
    }
}
