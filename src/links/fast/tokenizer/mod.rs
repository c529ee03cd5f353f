//! A byte-level port of html5ever 0.26's tokenizer, feeding the tree builder directly.
//!
//! Same states, same transitions, same quirks (see [`super::input`]), with three differences that
//! change nothing observable: runs of ordinary bytes are scanned in bulk (`memchr` or a byte
//! table) instead of one character at a time whenever [`Input::plain`] says that is equivalent,
//! a tag of the common shape (plain attributes, no character reference, `\r` or NUL) is read in
//! one pass from its `<` to its `>` instead of state by state (`Tokenizer::fast_tag`, which
//! hands anything else to the states untouched), and text is handed over as slices of the body
//! instead of copies. Comment and DOCTYPE text is not kept beyond what the quirks-mode decision
//! needs.
//!
//! Parse errors matter in exactly one way: each one is a token to the tree builder, and any token
//! clears the "drop a leading line feed" flag set by `<pre>`, `<listing>` and `<textarea>`. So
//! errors are reported wherever the reference reports one that can come between such a tag and
//! a character token (data state, character references, end of input); inside tags and comments
//! the tag or comment token that follows clears the flag anyway.

mod markup;
mod raw;
mod tag;

use super::builder::Builder;
use super::charref;
use super::input::Input;
use super::names::Interner;
use super::token::{Attrs, Kind, RawAttr, RawKind, SinkResult, Split, Tag, Token};

/// Tokenizer states (html5ever's `states::State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Data,
    Plaintext,
    TagOpen,
    EndTagOpen,
    TagName,
    RawData(RawKind),
    RawLessThanSign(RawKind),
    RawEndTagOpen(RawKind),
    RawEndTagName(RawKind),
    ScriptDataEscapeStart(super::token::Escape),
    ScriptDataEscapeStartDash,
    ScriptDataEscapedDash(super::token::Escape),
    ScriptDataEscapedDashDash(super::token::Escape),
    ScriptDataDoubleEscapeEnd,
    BeforeAttributeName,
    AttributeName,
    AfterAttributeName,
    BeforeAttributeValue,
    AttributeValue(Quote),
    AfterAttributeValueQuoted,
    SelfClosingStartTag,
    BogusComment,
    MarkupDeclarationOpen,
    CommentStart,
    CommentStartDash,
    Comment,
    CommentEndDash,
    CommentEnd,
    CommentEndBang,
    Doctype,
    BeforeDoctypeName,
    DoctypeName,
    AfterDoctypeName,
    AfterDoctypeKeyword(DoctypeId),
    BeforeDoctypeIdentifier(DoctypeId),
    DoctypeIdentifierDoubleQuoted(DoctypeId),
    DoctypeIdentifierSingleQuoted(DoctypeId),
    AfterDoctypeIdentifier(DoctypeId),
    BetweenDoctypePublicAndSystemIdentifiers,
    BogusDoctype,
    CdataSection,
    CdataSectionBracket,
    CdataSectionEnd,
}

/// How an attribute value is quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    Unquoted,
    Single,
    Double,
}

/// Which DOCTYPE identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DoctypeId {
    Public,
    System,
}

/// A DOCTYPE token.
#[derive(Debug, Default)]
pub(super) struct Doctype {
    /// Name, lowercased, as far as anything reads it.
    pub(super) name: Option<DoctypeName>,
    /// Public identifier.
    pub(super) public_id: Option<Vec<u8>>,
    /// System identifier.
    pub(super) system_id: Option<Vec<u8>>,
    /// Force quirks mode.
    pub(super) force_quirks: bool,
}

/// A DOCTYPE name as far as the tree builder reads it: whether it is `html`, the one question
/// its quirks-mode decision asks. Its first four bytes and its length are kept, so nearly every
/// page's `<!doctype html>` costs no allocation.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct DoctypeName {
    /// The first four bytes.
    head: [u8; 4],
    /// How many bytes the name has.
    len: usize,
}

impl DoctypeName {
    /// Appends `bytes` to the name.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.head.get_mut(self.len) {
                *slot = b;
            }
            self.len += 1;
        }
    }

    /// Whether the name is `html`.
    pub(super) fn is_html(&self) -> bool {
        self.len == 4 && self.head == *b"html"
    }
}

/// Whether the state machine can go on or needs input it does not have (the end).
enum Flow {
    Continue,
    Suspend,
}

/// Reads the next byte or suspends at the end of input.
macro_rules! get {
    ($self:ident) => {
        match $self.input.get() {
            Some(c) => c,
            None => return Flow::Suspend,
        }
    };
}
use get;

const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

/// Builds a 256-entry membership table for a byte set.
const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// Where the first byte of `s` that `stops` is, else `s.len()`; `search` finds the same in bulk.
/// Text between tags is mostly a few bytes (a line end, a word), and looking at those first
/// saves starting a vector search that would stop at once.
#[inline(always)]
fn find(s: &[u8], stops: impl Fn(u8) -> bool, search: impl FnOnce() -> Option<usize>) -> usize {
    const FIRST: usize = 8;
    match s.iter().take(FIRST).position(|&b| stops(b)) {
        Some(i) => i,
        None if s.len() <= FIRST => s.len(),
        None => search().unwrap_or(s.len()),
    }
}

/// Length of the prefix of `s` with no byte in `stop`.
#[inline]
fn scan(s: &[u8], stop: &[bool; 256]) -> usize {
    s.iter().position(|&b| stop[b as usize]).unwrap_or(s.len())
}

static NAME_STOP: [bool; 256] = table(b"\t\n\x0c\r />\0");
static ATTR_NAME_STOP: [bool; 256] = table(b"\t\n\x0c\r />=\0");
static DQ_STOP: [bool; 256] = table(b"\"&\r\0");
static SQ_STOP: [bool; 256] = table(b"'&\r\0");
static UNQUOTED_STOP: [bool; 256] = table(b"\t\n\x0c\r &>\0");

/// The allocations of a [`Tokenizer`] and its [`Builder`], kept from one document for the next
/// so that a crawl does not allocate (and free) a dozen buffers of a few kilobytes per page.
/// Whatever they hold is cleared before it is used again.
#[derive(Debug, Default)]
pub(in crate::links) struct Spare {
    name: Vec<u8>,
    attrs: Vec<RawAttr>,
    buf: Vec<u8>,
    last_start: Vec<u8>,
    temp: Vec<u8>,
    names: Interner,
    builder: super::builder::Spare,
}

/// The tokenizer, owning the tree builder it feeds.
pub(super) struct Tokenizer<'a> {
    /// The input stream.
    input: Input<'a>,
    /// The tree builder.
    pub(super) sink: Builder,
    /// Current state.
    state: State,
    /// Kind of the tag being read.
    kind: Kind,
    /// Name of the tag being read (lowercased).
    name: Vec<u8>,
    /// `/>` seen.
    self_closing: bool,
    /// Attributes of every tag so far (the tree builder keeps ranges into it); their text
    /// lives in `buf`.
    attrs: Vec<RawAttr>,
    /// Where the current tag's attributes start in `attrs`.
    tag_attrs: usize,
    /// Attribute names and values of every tag so far.
    pub(super) buf: Vec<u8>,
    /// The attribute being read: start and end of its name, start of its value.
    attr: Option<(u32, u32, Option<u32>)>,
    /// Name of the last start tag, for "appropriate end tag".
    last_start: Vec<u8>,
    /// html5ever's temporary buffer (raw end tag names, script escapes, CDATA text).
    temp: Vec<u8>,
    /// The DOCTYPE being read.
    doctype: Doctype,
    /// Tag names of this document.
    pub(super) names: Interner,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `bytes` feeding a fresh tree builder.
    #[cfg(test)]
    pub(super) fn new(bytes: &'a [u8]) -> Tokenizer<'a> {
        Tokenizer::reusing(bytes, Spare::default())
    }

    /// [`Tokenizer::new`] in the allocations of `spare` (left by [`Tokenizer::into_spare`]).
    pub(super) fn reusing(bytes: &'a [u8], spare: Spare) -> Tokenizer<'a> {
        let Spare {
            mut name,
            mut attrs,
            mut buf,
            mut last_start,
            mut temp,
            mut names,
            builder,
        } = spare;
        for v in [&mut name, &mut buf, &mut last_start, &mut temp] {
            v.clear();
        }
        attrs.clear();
        names.clear();
        name.reserve(16);
        attrs.reserve(bytes.len() / 64 + 8);
        buf.reserve(bytes.len() / 4 + 64);
        Tokenizer {
            input: Input::new(bytes),
            sink: Builder::reusing(bytes.len(), builder),
            state: State::Data,
            kind: Kind::Start,
            name,
            self_closing: false,
            attrs,
            tag_attrs: 0,
            buf,
            attr: None,
            last_start,
            temp,
            doctype: Doctype::default(),
            names,
        }
    }

    /// Gives back the tokenizer's (and its tree builder's) vectors for [`Tokenizer::reusing`].
    pub(super) fn into_spare(self) -> Spare {
        Spare {
            name: self.name,
            attrs: self.attrs,
            buf: self.buf,
            last_start: self.last_start,
            temp: self.temp,
            names: self.names,
            builder: self.sink.into_spare(),
        }
    }

    /// Tokenizes the whole input, end of input included.
    pub(super) fn run(&mut self) {
        // The reference drops a leading byte order mark.
        self.skip_bom();
        self.step();
        while let Flow::Continue = self.eof_step() {}
    }

    fn skip_bom(&mut self) {
        if self.input.plain() && self.input.rest().starts_with(b"\xef\xbb\xbf") {
            self.input.skip(3);
        }
    }

    fn error(&mut self) {
        self.sink.parse_error();
    }

    fn emit(&mut self, text: &[u8]) {
        self.sink.process(Token::Chars(Split::NotSplit, text));
    }

    fn emit_byte(&mut self, c: u8) {
        self.emit(std::slice::from_ref(&c));
    }

    fn emit_comment(&mut self) {
        self.sink.process(Token::Comment);
    }

    fn create_tag(&mut self, kind: Kind, c: u8) {
        self.kind = kind;
        self.name.clear();
        self.name.push(c);
        self.self_closing = false;
        self.tag_attrs = self.attrs.len();
        self.attr = None;
    }

    fn create_attr(&mut self, c: &[u8]) {
        self.finish_attr();
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(c);
        self.attr = Some((start, self.buf.len() as u32, None));
    }

    fn push_name(&mut self, c: &[u8]) {
        self.buf.extend_from_slice(c);
        if let Some(attr) = &mut self.attr {
            attr.1 = self.buf.len() as u32;
        }
    }

    fn push_value(&mut self, c: &[u8]) {
        if let Some(attr) = &mut self.attr {
            if attr.2.is_none() {
                attr.2 = Some(self.buf.len() as u32);
            }
        }
        self.buf.extend_from_slice(c);
    }

    fn finish_attr(&mut self) {
        if let Some((start, end, value)) = self.attr.take() {
            let len = self.buf.len() as u32;
            let value = value.map_or((len, len), |v| (v, len));
            self.attrs.push(RawAttr {
                name: (start, end),
                value,
            });
        }
    }

    /// Emits the current tag and moves to the data state, or to the state the tree builder asks
    /// for.
    #[inline(never)]
    fn emit_tag(&mut self) -> Flow {
        self.finish_attr();
        self.state = State::Data;
        let name = self.names.name(&self.name);
        if self.kind == Kind::Start {
            self.last_start.clear();
            self.last_start.extend_from_slice(&self.name);
        }
        let tag = Tag {
            kind: self.kind,
            name,
            self_closing: self.self_closing,
            attrs: Attrs {
                arena: &self.attrs,
                range: (self.tag_attrs as u32, self.attrs.len() as u32),
                buf: &self.buf,
            },
        };
        match self.sink.process(Token::Tag(tag)) {
            SinkResult::Continue => {}
            SinkResult::Plaintext => self.state = State::Plaintext,
            SinkResult::RawData(kind) => self.state = State::RawData(kind),
            // The reference's driver feeds the tokenizer again after a script, and each feed
            // drops a leading byte order mark.
            SinkResult::Script => self.skip_bom(),
        }
        Flow::Continue
    }

    /// Consumes a character reference in text and emits what it stands for.
    fn char_ref_in_text(&mut self) {
        let r = charref::consume(&mut self.input, None);
        if r.error {
            self.error();
        }
        self.emit(r.as_bytes());
    }

    /// Consumes a character reference in an attribute value quoted by `addnl`.
    fn char_ref_in_value(&mut self, addnl: u8) {
        let r = charref::consume(&mut self.input, Some(addnl));
        if r.error {
            self.error();
        }
        self.push_value(r.as_bytes());
    }

    /// Runs the state machine until the end of input. The data state and the states inside
    /// a tag, where nearly all time goes, are handled in this one loop (their functions are
    /// inlined) so that a transition is a jump rather than a return to a dispatcher.
    fn step(&mut self) -> Flow {
        loop {
            let flow = match self.state {
                State::Data => self.data(),
                State::TagOpen => self.tag_open(),
                State::EndTagOpen => self.end_tag_open(),
                State::TagName => self.tag_name(),
                State::BeforeAttributeName => self.before_attribute_name(),
                State::AttributeName => self.attribute_name(),
                State::AfterAttributeName => self.after_attribute_name(),
                State::BeforeAttributeValue => self.before_attribute_value(),
                State::AttributeValue(q) => self.attribute_value(q),
                State::AfterAttributeValueQuoted => self.after_attribute_value_quoted(),
                State::SelfClosingStartTag => self.self_closing_start_tag(),
                State::Plaintext
                | State::RawData(_)
                | State::RawLessThanSign(_)
                | State::RawEndTagOpen(_)
                | State::RawEndTagName(_)
                | State::ScriptDataEscapeStart(_)
                | State::ScriptDataEscapeStartDash
                | State::ScriptDataEscapedDash(_)
                | State::ScriptDataEscapedDashDash(_)
                | State::ScriptDataDoubleEscapeEnd => self.raw_step(),
                _ => self.markup_step(),
            };
            if let Flow::Suspend = flow {
                return Flow::Suspend;
            }
        }
    }

    #[inline(always)]
    fn data(&mut self) -> Flow {
        if self.input.plain() && self.sink.text_is_inert() {
            let rest = self.input.rest();
            self.input
                .skip(find(rest, |b| b == b'<', || memchr::memchr(b'<', rest)));
        }
        loop {
            if self.input.plain() {
                let rest = self.input.rest();
                let n = find(
                    rest,
                    |b| matches!(b, b'<' | b'&' | b'\0'),
                    || memchr::memchr3(b'<', b'&', b'\0', rest),
                );
                if n > 0 {
                    self.input.skip(n);
                    self.emit(&rest[..n]);
                }
            }
            match get!(self) {
                b'\0' => {
                    self.error();
                    self.sink.process(Token::Null);
                }
                b'&' => self.char_ref_in_text(),
                b'<' => {
                    self.state = State::TagOpen;
                    return Flow::Continue;
                }
                c => self.emit_byte(c),
            }
        }
    }

    #[inline(always)]
    fn tag_open(&mut self) -> Flow {
        if let Some(flow) = self.fast_tag(Kind::Start) {
            return flow;
        }
        match get!(self) {
            b'!' => {
                self.temp.clear();
                self.state = State::MarkupDeclarationOpen;
            }
            b'/' => self.state = State::EndTagOpen,
            b'?' => {
                self.error();
                self.state = State::BogusComment;
            }
            c if c.is_ascii_alphabetic() => {
                self.create_tag(Kind::Start, c.to_ascii_lowercase());
                self.state = State::TagName;
            }
            _ => {
                self.error();
                self.emit(b"<");
                self.input.unget();
                self.state = State::Data;
            }
        }
        Flow::Continue
    }

    #[inline(always)]
    fn end_tag_open(&mut self) -> Flow {
        if let Some(flow) = self.fast_tag(Kind::End) {
            return flow;
        }
        match get!(self) {
            b'>' => {
                self.error();
                self.state = State::Data;
            }
            c if c.is_ascii_alphabetic() => {
                self.create_tag(Kind::End, c.to_ascii_lowercase());
                self.state = State::TagName;
            }
            _ => {
                self.error();
                self.state = State::BogusComment;
            }
        }
        Flow::Continue
    }
}
