//! Markup declarations (comments, DOCTYPE, CDATA) and the end of input.
//!
//! Comments are skipped without keeping their text; the point is only to find where they end,
//! by html5ever 0.26's (pre-2019) comment states: `<!-->` and `<!--->` end at once, `--!>` ends,
//! a comment open at the end of input runs to the end. The DOCTYPE is kept because its
//! identifiers decide quirks mode, which changes whether `<table>` closes an open `<p>`. CDATA
//! sections exist only in SVG and MathML; elsewhere `<![CDATA[` is a bogus comment.

use super::{Doctype, DoctypeId, DoctypeName, Flow, REPLACEMENT, State, Tokenizer, get};
use crate::links::fast::token::{Escape, RawKind, Split, Token};

fn push_opt(id: &mut Option<Vec<u8>>, bytes: &[u8]) {
    id.get_or_insert_with(Vec::new).extend_from_slice(bytes);
}

impl Tokenizer<'_> {
    fn doctype_name(&mut self) -> &mut DoctypeName {
        self.doctype.name.get_or_insert_with(DoctypeName::default)
    }

    fn doctype_id(&mut self, kind: DoctypeId) -> &mut Option<Vec<u8>> {
        match kind {
            DoctypeId::Public => &mut self.doctype.public_id,
            DoctypeId::System => &mut self.doctype.system_id,
        }
    }

    fn clear_doctype_id(&mut self, kind: DoctypeId) {
        *self.doctype_id(kind) = Some(Vec::new());
    }

    fn emit_doctype(&mut self) {
        let doctype = std::mem::take(&mut self.doctype);
        self.sink.doctype(&doctype);
    }

    fn emit_temp(&mut self) {
        let mut temp = std::mem::take(&mut self.temp);
        // An empty CDATA section gives an empty token; the tree builder still counts it.
        self.sink.process(Token::Chars(Split::NotSplit, &temp));
        temp.clear();
        self.temp = temp;
    }

    pub(super) fn markup_step(&mut self) -> Flow {
        match self.state {
            State::MarkupDeclarationOpen => {
                if self.input.eat(b"--", false) {
                    self.state = State::CommentStart;
                } else if self.input.eat(b"doctype", true) {
                    self.state = State::Doctype;
                } else if self.sink.foreign_cdata_allowed() && self.input.eat(b"[CDATA[", false) {
                    self.temp.clear();
                    self.state = State::CdataSection;
                } else {
                    self.error();
                    self.state = State::BogusComment;
                }
            }
            State::BogusComment => loop {
                if self.input.plain() {
                    let rest = self.input.rest();
                    let n = memchr::memchr(b'>', rest).unwrap_or(rest.len());
                    self.input.skip(n);
                }
                if get!(self) == b'>' {
                    self.emit_comment();
                    self.state = State::Data;
                    return Flow::Continue;
                }
            },
            State::CommentStart => match get!(self) {
                b'-' => self.state = State::CommentStartDash,
                b'>' => {
                    self.error();
                    self.emit_comment();
                    self.state = State::Data;
                }
                _ => self.state = State::Comment,
            },
            State::CommentStartDash => match get!(self) {
                b'-' => self.state = State::CommentEnd,
                b'>' => {
                    self.error();
                    self.emit_comment();
                    self.state = State::Data;
                }
                _ => self.state = State::Comment,
            },
            State::Comment => loop {
                if self.input.plain() {
                    let rest = self.input.rest();
                    let n = memchr::memchr(b'-', rest).unwrap_or(rest.len());
                    self.input.skip(n);
                }
                if get!(self) == b'-' {
                    self.state = State::CommentEndDash;
                    return Flow::Continue;
                }
            },
            State::CommentEndDash => match get!(self) {
                b'-' => self.state = State::CommentEnd,
                _ => self.state = State::Comment,
            },
            State::CommentEnd => match get!(self) {
                b'>' => {
                    self.emit_comment();
                    self.state = State::Data;
                }
                b'!' => {
                    self.error();
                    self.state = State::CommentEndBang;
                }
                b'-' => self.error(),
                _ => {
                    self.error();
                    self.state = State::Comment;
                }
            },
            State::CommentEndBang => match get!(self) {
                b'-' => self.state = State::CommentEndDash,
                b'>' => {
                    self.emit_comment();
                    self.state = State::Data;
                }
                _ => self.state = State::Comment,
            },
            State::CdataSection => loop {
                match get!(self) {
                    b']' => {
                        self.state = State::CdataSectionBracket;
                        return Flow::Continue;
                    }
                    b'\0' => {
                        self.emit_temp();
                        self.sink.process(Token::Null);
                    }
                    c => self.temp.push(c),
                }
            },
            State::CdataSectionBracket => {
                if get!(self) == b']' {
                    self.state = State::CdataSectionEnd;
                } else {
                    self.temp.push(b']');
                    self.input.unget();
                    self.state = State::CdataSection;
                }
            }
            State::CdataSectionEnd => loop {
                match get!(self) {
                    b']' => self.temp.push(b']'),
                    b'>' => {
                        self.emit_temp();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    _ => {
                        self.temp.extend_from_slice(b"]]");
                        self.input.unget();
                        self.state = State::CdataSection;
                        return Flow::Continue;
                    }
                }
            },
            _ => return self.doctype_step(),
        }
        Flow::Continue
    }

    fn doctype_step(&mut self) -> Flow {
        match self.state {
            State::Doctype => {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    _ => {
                        self.error();
                        self.input.unget();
                    }
                }
                self.state = State::BeforeDoctypeName;
            }
            State::BeforeDoctypeName => loop {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    b'\0' => {
                        self.error();
                        self.doctype = Doctype::default();
                        self.doctype_name().push(REPLACEMENT);
                        self.state = State::DoctypeName;
                        return Flow::Continue;
                    }
                    b'>' => {
                        self.error();
                        self.doctype = Doctype {
                            force_quirks: true,
                            ..Doctype::default()
                        };
                        self.emit_doctype();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    c => {
                        self.doctype = Doctype::default();
                        self.doctype_name().push(&[c.to_ascii_lowercase()]);
                        self.state = State::DoctypeName;
                        return Flow::Continue;
                    }
                }
            },
            State::DoctypeName => loop {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {
                        self.temp.clear();
                        self.state = State::AfterDoctypeName;
                        return Flow::Continue;
                    }
                    b'>' => {
                        self.emit_doctype();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    b'\0' => {
                        self.error();
                        self.doctype_name().push(REPLACEMENT);
                    }
                    c => self.doctype_name().push(&[c.to_ascii_lowercase()]),
                }
            },
            State::AfterDoctypeName => loop {
                if self.input.eat(b"public", true) {
                    self.state = State::AfterDoctypeKeyword(DoctypeId::Public);
                    return Flow::Continue;
                }
                if self.input.eat(b"system", true) {
                    self.state = State::AfterDoctypeKeyword(DoctypeId::System);
                    return Flow::Continue;
                }
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    b'>' => {
                        self.emit_doctype();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    _ => {
                        self.error();
                        self.doctype.force_quirks = true;
                        self.state = State::BogusDoctype;
                        return Flow::Continue;
                    }
                }
            },
            State::AfterDoctypeKeyword(kind) => match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {
                    self.state = State::BeforeDoctypeIdentifier(kind);
                }
                b'"' => {
                    self.error();
                    self.clear_doctype_id(kind);
                    self.state = State::DoctypeIdentifierDoubleQuoted(kind);
                }
                b'\'' => {
                    self.error();
                    self.clear_doctype_id(kind);
                    self.state = State::DoctypeIdentifierSingleQuoted(kind);
                }
                b'>' => self.bad_doctype_end(),
                _ => self.bogus_doctype(),
            },
            State::BeforeDoctypeIdentifier(kind) => loop {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    b'"' => {
                        self.clear_doctype_id(kind);
                        self.state = State::DoctypeIdentifierDoubleQuoted(kind);
                        return Flow::Continue;
                    }
                    b'\'' => {
                        self.clear_doctype_id(kind);
                        self.state = State::DoctypeIdentifierSingleQuoted(kind);
                        return Flow::Continue;
                    }
                    b'>' => {
                        self.bad_doctype_end();
                        return Flow::Continue;
                    }
                    _ => {
                        self.bogus_doctype();
                        return Flow::Continue;
                    }
                }
            },
            State::DoctypeIdentifierDoubleQuoted(kind)
            | State::DoctypeIdentifierSingleQuoted(kind) => loop {
                let quote = if self.state == State::DoctypeIdentifierDoubleQuoted(kind) {
                    b'"'
                } else {
                    b'\''
                };
                match get!(self) {
                    c if c == quote => {
                        self.state = State::AfterDoctypeIdentifier(kind);
                        return Flow::Continue;
                    }
                    b'\0' => {
                        self.error();
                        push_opt(self.doctype_id(kind), REPLACEMENT);
                    }
                    b'>' => {
                        self.bad_doctype_end();
                        return Flow::Continue;
                    }
                    c => push_opt(self.doctype_id(kind), &[c]),
                }
            },
            State::AfterDoctypeIdentifier(DoctypeId::Public) => match get!(self) {
                b'\t' | b'\n' | b'\x0c' | b' ' => {
                    self.state = State::BetweenDoctypePublicAndSystemIdentifiers;
                }
                b'>' => {
                    self.emit_doctype();
                    self.state = State::Data;
                }
                b'"' => {
                    self.error();
                    self.clear_doctype_id(DoctypeId::System);
                    self.state = State::DoctypeIdentifierDoubleQuoted(DoctypeId::System);
                }
                b'\'' => {
                    self.error();
                    self.clear_doctype_id(DoctypeId::System);
                    self.state = State::DoctypeIdentifierSingleQuoted(DoctypeId::System);
                }
                _ => self.bogus_doctype(),
            },
            State::AfterDoctypeIdentifier(DoctypeId::System) => loop {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    b'>' => {
                        self.emit_doctype();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    _ => {
                        // Unlike the other bogus cases, this one does not force quirks.
                        self.error();
                        self.state = State::BogusDoctype;
                        return Flow::Continue;
                    }
                }
            },
            State::BetweenDoctypePublicAndSystemIdentifiers => loop {
                match get!(self) {
                    b'\t' | b'\n' | b'\x0c' | b' ' => {}
                    b'>' => {
                        self.emit_doctype();
                        self.state = State::Data;
                        return Flow::Continue;
                    }
                    b'"' => {
                        self.clear_doctype_id(DoctypeId::System);
                        self.state = State::DoctypeIdentifierDoubleQuoted(DoctypeId::System);
                        return Flow::Continue;
                    }
                    b'\'' => {
                        self.clear_doctype_id(DoctypeId::System);
                        self.state = State::DoctypeIdentifierSingleQuoted(DoctypeId::System);
                        return Flow::Continue;
                    }
                    _ => {
                        self.bogus_doctype();
                        return Flow::Continue;
                    }
                }
            },
            State::BogusDoctype => loop {
                if get!(self) == b'>' {
                    self.emit_doctype();
                    self.state = State::Data;
                    return Flow::Continue;
                }
            },
            _ => unreachable!("not a markup state: {:?}", self.state),
        }
        Flow::Continue
    }

    /// `>` where an identifier was expected: quirks, and the DOCTYPE ends.
    fn bad_doctype_end(&mut self) {
        self.error();
        self.doctype.force_quirks = true;
        self.emit_doctype();
        self.state = State::Data;
    }

    fn bogus_doctype(&mut self) {
        self.error();
        self.doctype.force_quirks = true;
        self.state = State::BogusDoctype;
    }

    /// One step of end-of-input handling (html5ever's `eof_step`); `Suspend` once the end-of-file
    /// token went out.
    pub(super) fn eof_step(&mut self) -> Flow {
        use RawKind::ScriptDataEscaped as Esc;
        self.state = match self.state {
            State::Data
            | State::RawData(RawKind::Rcdata | RawKind::Rawtext | RawKind::ScriptData)
            | State::Plaintext => {
                self.sink.process(Token::Eof);
                return Flow::Suspend;
            }
            State::TagName
            | State::RawData(Esc(_))
            | State::BeforeAttributeName
            | State::AttributeName
            | State::AfterAttributeName
            | State::BeforeAttributeValue
            | State::AttributeValue(_)
            | State::AfterAttributeValueQuoted
            | State::SelfClosingStartTag
            | State::ScriptDataEscapedDash(_)
            | State::ScriptDataEscapedDashDash(_) => {
                self.error();
                State::Data
            }
            State::TagOpen => {
                self.error();
                self.emit(b"<");
                State::Data
            }
            State::EndTagOpen => {
                self.error();
                self.emit(b"</");
                State::Data
            }
            State::RawLessThanSign(Esc(Escape::DoubleEscaped)) => {
                State::RawData(Esc(Escape::DoubleEscaped))
            }
            State::RawLessThanSign(kind) => {
                self.emit(b"<");
                State::RawData(kind)
            }
            State::RawEndTagOpen(kind) => {
                self.emit(b"</");
                State::RawData(kind)
            }
            State::RawEndTagName(kind) => {
                self.emit(b"</");
                let temp = std::mem::take(&mut self.temp);
                self.emit(&temp);
                State::RawData(kind)
            }
            State::ScriptDataEscapeStart(kind) => State::RawData(Esc(kind)),
            State::ScriptDataEscapeStartDash => State::RawData(RawKind::ScriptData),
            State::ScriptDataDoubleEscapeEnd => State::RawData(Esc(Escape::DoubleEscaped)),
            State::CommentStart
            | State::CommentStartDash
            | State::Comment
            | State::CommentEndDash
            | State::CommentEnd
            | State::CommentEndBang => {
                self.error();
                self.emit_comment();
                State::Data
            }
            State::Doctype | State::BeforeDoctypeName => {
                self.error();
                self.doctype = Doctype {
                    force_quirks: true,
                    ..Doctype::default()
                };
                self.emit_doctype();
                State::Data
            }
            State::DoctypeName
            | State::AfterDoctypeName
            | State::AfterDoctypeKeyword(_)
            | State::BeforeDoctypeIdentifier(_)
            | State::DoctypeIdentifierDoubleQuoted(_)
            | State::DoctypeIdentifierSingleQuoted(_)
            | State::AfterDoctypeIdentifier(_)
            | State::BetweenDoctypePublicAndSystemIdentifiers => {
                self.error();
                self.doctype.force_quirks = true;
                self.emit_doctype();
                State::Data
            }
            State::BogusDoctype => {
                self.emit_doctype();
                State::Data
            }
            State::BogusComment => {
                self.emit_comment();
                State::Data
            }
            State::MarkupDeclarationOpen => {
                self.error();
                State::BogusComment
            }
            State::CdataSection => {
                self.emit_temp();
                self.error();
                State::Data
            }
            State::CdataSectionBracket => {
                self.temp.push(b']');
                State::CdataSection
            }
            State::CdataSectionEnd => {
                self.temp.extend_from_slice(b"]]");
                State::CdataSection
            }
        };
        Flow::Continue
    }
}
