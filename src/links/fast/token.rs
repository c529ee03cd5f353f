//! What the tokenizer hands the tree builder, and what the tree builder answers.
//!
//! Tokens borrow from the tokenizer (attribute text lives in its per-document arena, character
//! runs are slices of the body), so handing one over costs nothing. Character tokens may carry raw
//! `\r` bytes: the tree builder only ever asks whether a character is whitespace and whether a
//! token starts with a line feed, and both questions have the same answer before and after
//! newline normalisation (see `drop_first_lf`).

use super::names::Name;

/// Start or end tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `<x>`.
    Start,
    /// `</x>`.
    End,
}

/// One attribute: byte ranges into the tokenizer's attribute text.
#[derive(Clone, Copy, Debug)]
pub(super) struct RawAttr {
    /// Lowercased name.
    pub(super) name: (u32, u32),
    /// Value, character references decoded.
    pub(super) value: (u32, u32),
}

/// The attributes of a tag, in source order, duplicates included (the first one counts).
///
/// The tokenizer keeps every attribute of the document (it never clears its buffers within a
/// document), so a range into its arena stays valid: the tree builder keeps ranges, not copies,
/// for `href` values and for the attributes the Noah's Ark clause may compare later.
#[derive(Clone, Copy, Debug)]
pub(super) struct Attrs<'a> {
    /// All attributes of the document so far.
    pub(super) arena: &'a [RawAttr],
    /// This tag's part of `arena`.
    pub(super) range: (u32, u32),
    /// The text the attributes' ranges point into.
    pub(super) buf: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// No attributes.
    pub(super) const EMPTY: Attrs<'static> = Attrs {
        arena: &[],
        range: (0, 0),
        buf: &[],
    };

    /// The attributes of another tag of the same document.
    pub(super) fn other(&self, range: (u32, u32)) -> Attrs<'a> {
        Attrs { range, ..*self }
    }

    fn list(&self) -> &'a [RawAttr] {
        &self.arena[self.range.0 as usize..self.range.1 as usize]
    }

    /// How many attributes (duplicates included).
    pub(super) fn len(&self) -> usize {
        (self.range.1 - self.range.0) as usize
    }

    /// Name and value of each attribute, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let buf = self.buf;
        self.list().iter().map(move |a| {
            (
                &buf[a.name.0 as usize..a.name.1 as usize],
                &buf[a.value.0 as usize..a.value.1 as usize],
            )
        })
    }

    /// The value of the first attribute called `name` (later duplicates are dropped by the
    /// tokenizer of the reference).
    pub(super) fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Where the value of the first attribute whose name is one of `names` is, in the text.
    pub(super) fn value_range(&self, names: &[&[u8]]) -> Option<(u32, u32)> {
        let buf = self.buf;
        self.list()
            .iter()
            .find(|a| names.contains(&&buf[a.name.0 as usize..a.name.1 as usize]))
            .map(|a| a.value)
    }
}

/// A tag token.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tag<'a> {
    /// Start or end.
    pub(super) kind: Kind,
    /// Name.
    pub(super) name: Name,
    /// `<x/>`.
    pub(super) self_closing: bool,
    /// Attributes.
    pub(super) attrs: Attrs<'a>,
}

impl Tag<'_> {
    /// A start tag named `name`.
    pub(super) fn is_start(&self, name: Name) -> bool {
        self.kind == Kind::Start && self.name == name
    }
}

/// Whether a character token was split into whitespace and the rest (html5ever's
/// `SplitStatus`, names kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // Named as in html5ever, which the rules are read against.
pub(super) enum Split {
    /// As it came.
    NotSplit,
    /// Only whitespace.
    Whitespace,
    /// Starts with a non-whitespace character.
    NotWhitespace,
}

/// A token.
#[derive(Clone, Copy, Debug)]
pub(super) enum Token<'a> {
    /// A tag.
    Tag(Tag<'a>),
    /// A comment (its text does not matter).
    Comment,
    /// Characters (never empty, no NUL).
    Chars(Split, &'a [u8]),
    /// A NUL character in the data state.
    Null,
    /// End of input.
    Eof,
}

/// The raw-text tokenizer states the tree builder can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RawKind {
    /// `title`, `textarea`.
    Rcdata,
    /// `style`, `xmp`, `iframe`, `noembed`, `noframes`, `noscript`.
    Rawtext,
    /// `script`.
    ScriptData,
    /// Inside `<!--` in a script.
    ScriptDataEscaped(Escape),
}

/// Script escape depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Escape {
    /// `<!--`.
    Escaped,
    /// `<!--<script>`.
    DoubleEscaped,
}

/// The tree builder's answer to a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SinkResult {
    /// Carry on.
    Continue,
    /// A `</script>` ended a script: the reference's driver re-enters the tokenizer here, which
    /// drops a byte order mark that follows.
    Script,
    /// Switch to the PLAINTEXT state.
    Plaintext,
    /// Switch to a raw-text state.
    RawData(RawKind),
}

/// HTML whitespace as the tree builder sees it (`char::is_ascii_whitespace`).
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// `text` without its first character if that is a line feed after newline normalisation
/// (`\r\n`, `\r` or `\n`).
pub(super) fn drop_first_lf(text: &[u8]) -> &[u8] {
    match text {
        [b'\r', b'\n', rest @ ..] | [b'\r' | b'\n', rest @ ..] => rest,
        _ => text,
    }
}
