//! The tree builder: html5ever 0.26's tree construction, on the element skeleton.
//!
//! This file holds the state (insertion mode, stack of open elements, list of active formatting
//! elements, head/form pointers, flags) and the algorithms the rules share: inserting at the
//! appropriate place (with foster parenting), reconstructing the active formatting elements
//! (which clones `<a>` elements, `href` and all), the adoption agency, the Noah's Ark clause,
//! resetting the insertion mode. The per-mode rules live in `rules/`. Each function follows
//! its html5ever counterpart line by line, quirks included (for instance `<math>` and `<svg>` do
//! not reconstruct formatting elements, `special_tag` has no SVG or MathML names); where the
//! reference only reports a parse error, nothing happens here.

mod formatting;

use super::names::*;
use super::token::{Attrs, RawKind, SinkResult, Split, Token, drop_first_lf, is_space};
use super::tokenizer::Doctype;
use super::tree::{NONE, Tree};

/// Insertion modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Initial,
    BeforeHtml,
    BeforeHead,
    InHead,
    AfterHead,
    InBody,
    Text,
    InTable,
    InTableText,
    InCaption,
    InColumnGroup,
    InTableBody,
    InRow,
    InCell,
    InSelect,
    InSelectInTable,
    InTemplate,
    AfterBody,
    InFrameset,
    AfterFrameset,
    AfterAfterBody,
    AfterAfterFrameset,
}

/// What a rule did with a token (html5ever's `ProcessResult`, acknowledged or not).
#[derive(Clone, Copy, Debug)]
pub(super) enum Res<'a> {
    /// Done with the token.
    Done,
    /// Split the characters into a leading run of whitespace or not, and the rest.
    Split(&'a [u8]),
    /// Process the token again in another mode.
    Reprocess(Mode, Token<'a>),
    /// Process the token again, checking for foreign content first.
    ReprocessForeign(Token<'a>),
    /// A script ended.
    Script,
    /// Switch the tokenizer to PLAINTEXT.
    Plaintext,
    /// Switch the tokenizer to a raw-text state.
    RawData(RawKind),
}

/// The tag of an active formatting element, enough to clone it.
#[derive(Clone, Copy, Debug)]
pub(super) struct FmtTag {
    /// Name (always HTML).
    pub(super) name: Name,
    /// The link record index, for `<a>`.
    pub(super) rec: u32,
    /// Its attributes, as a range of the tokenizer's arena, for the Noah's Ark clause.
    pub(super) attrs: (u32, u32),
}

/// An entry of the list of active formatting elements.
#[derive(Clone, Copy, Debug)]
pub(super) enum Fmt {
    /// A scope marker.
    Marker,
    /// An element and the tag it was made from.
    El(u32, FmtTag),
}

/// Where to insert a node.
enum Place {
    /// As the last child of this node.
    LastChild(u32),
    /// Before the table if it has a parent, else as the last child of the element below it on
    /// the stack.
    Foster { table: u32, prev: u32 },
}

/// Characters collected in the "in table text" mode.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pending {
    /// Some character token arrived.
    pub(super) any: bool,
    /// One of them had a non-whitespace character.
    pub(super) nonspace: bool,
}

/// The tree builder.
#[derive(Debug)]
pub(super) struct Builder {
    /// The element skeleton.
    pub(super) tree: Tree,
    /// The link records of the elements that carry links, indexed by [`super::tree::Node::rec`].
    pub(super) recs: Vec<super::record::Rec>,
    /// Insertion mode.
    pub(super) mode: Mode,
    /// Mode to return to after `Text` or `InTableText`.
    pub(super) orig_mode: Option<Mode>,
    /// Stack of template insertion modes.
    pub(super) template_modes: Vec<Mode>,
    /// Pending table character tokens.
    pub(super) pending: Pending,
    /// Quirks mode (full quirks only; limited quirks changes nothing here).
    pub(super) quirks: bool,
    /// Stack of open elements.
    pub(super) open: Vec<u32>,
    /// List of active formatting elements.
    pub(super) fmt: Vec<Fmt>,
    /// Head element pointer.
    pub(super) head: u32,
    /// Form element pointer.
    pub(super) form: u32,
    /// Frameset-ok flag.
    pub(super) frameset_ok: bool,
    /// Drop a leading line feed from the next token.
    pub(super) ignore_lf: bool,
    /// Foster parenting is on.
    pub(super) foster_parenting: bool,
}

/// The allocations of a [`Builder`] kept for the next document: its vectors, which
/// [`Builder::reusing`] empties.
#[derive(Debug, Default)]
pub(super) struct Spare {
    nodes: Vec<super::tree::Node>,
    recs: Vec<super::record::Rec>,
    template_modes: Vec<Mode>,
    open: Vec<u32>,
    fmt: Vec<Fmt>,
}

impl Builder {
    /// Gives back the builder's vectors for [`Builder::reusing`].
    pub(super) fn into_spare(self) -> Spare {
        Spare {
            nodes: self.tree.into_nodes(),
            recs: self.recs,
            template_modes: self.template_modes,
            open: self.open,
            fmt: self.fmt,
        }
    }
}

/// `true` if `text` has a character that is not ASCII whitespace.
pub(super) fn any_not_space(text: &[u8]) -> bool {
    text.iter().any(|&b| !is_space(b))
}

impl Builder {
    /// A tree builder at the start of a document of about `len` bytes, in the allocations of
    /// `spare` (left by [`Builder::into_spare`]).
    pub(super) fn reusing(len: usize, spare: Spare) -> Builder {
        let Spare {
            nodes,
            mut recs,
            mut template_modes,
            mut open,
            mut fmt,
        } = spare;
        recs.clear();
        template_modes.clear();
        open.clear();
        fmt.clear();
        recs.reserve(64);
        open.reserve(32);
        fmt.reserve(16);
        Builder {
            // Typical pages have an element every 40 to 60 bytes.
            tree: Tree::reusing(nodes, len / 48 + 16),
            recs,
            mode: Mode::Initial,
            orig_mode: None,
            template_modes,
            pending: Pending::default(),
            quirks: false,
            open,
            fmt,
            head: NONE,
            form: NONE,
            frameset_ok: true,
            ignore_lf: false,
            foster_parenting: false,
        }
    }

    /// A parse error: a token like any other, it clears `ignore_lf`.
    pub(super) fn parse_error(&mut self) {
        self.ignore_lf = false;
    }

    /// A DOCTYPE token.
    pub(super) fn doctype(&mut self, doctype: &Doctype) {
        self.ignore_lf = false;
        if self.mode == Mode::Initial {
            self.quirks = super::doctype::is_quirks(doctype);
            self.mode = Mode::BeforeHtml;
        }
    }

    /// Whether `<![CDATA[` opens a CDATA section: the adjusted current node is foreign.
    pub(super) fn foreign_cdata_allowed(&self) -> bool {
        self.open
            .last()
            .is_some_and(|&n| self.tree.el(n).ns != Ns::Html)
    }

    /// Whether character and NUL tokens would change nothing at all right now: in body with
    /// `frameset-ok` already off and nothing to reconstruct, or in a select, under an HTML
    /// current node. The tokenizer then skips text to the next `<` without tokenizing it
    /// (nothing in text, character references included, can consume a `<`). The flag `ignore_lf`
    /// does not matter: whatever follows the skipped text is a tag, a comment, or comes after a
    /// parse error, and each of those clears it.
    pub(super) fn text_is_inert(&self) -> bool {
        let html_current = self
            .open
            .last()
            .is_some_and(|&n| self.tree.el(n).ns == Ns::Html);
        match self.mode {
            Mode::InBody => {
                html_current
                    && !self.frameset_ok
                    && self.fmt.last().is_none_or(|&e| self.is_marker_or_open(e))
            }
            Mode::InSelect => html_current,
            _ => false,
        }
    }

    /// Any other token.
    pub(super) fn process(&mut self, token: Token<'_>) -> SinkResult {
        let ignore_lf = std::mem::replace(&mut self.ignore_lf, false);
        let token = match token {
            Token::Chars(_, mut text) => {
                if ignore_lf {
                    text = drop_first_lf(text);
                }
                if text.is_empty() {
                    return SinkResult::Continue;
                }
                Token::Chars(Split::NotSplit, text)
            }
            other => other,
        };
        self.process_to_completion(token)
    }

    fn process_to_completion<'a>(&mut self, mut token: Token<'a>) -> SinkResult {
        // What is left of a split character token (there is never more than one).
        let mut more: Option<&'a [u8]> = None;
        loop {
            let result = if self.is_foreign(&token) {
                self.step_foreign(token)
            } else {
                self.step(self.mode, token)
            };
            match result {
                Res::Done => match more.take() {
                    Some(text) => token = Token::Chars(Split::NotSplit, text),
                    None => return SinkResult::Continue,
                },
                Res::Reprocess(mode, t) => {
                    self.mode = mode;
                    token = t;
                }
                Res::ReprocessForeign(t) => token = t,
                Res::Split(text) => {
                    let Some(&first) = text.first() else {
                        return SinkResult::Continue;
                    };
                    let space = is_space(first);
                    let n = text
                        .iter()
                        .position(|&b| is_space(b) != space)
                        .unwrap_or(text.len());
                    let status = if space {
                        Split::Whitespace
                    } else {
                        Split::NotWhitespace
                    };
                    token = Token::Chars(status, &text[..n]);
                    if n < text.len() {
                        more = Some(&text[n..]);
                    }
                }
                Res::Script => return SinkResult::Script,
                Res::Plaintext => return SinkResult::Plaintext,
                Res::RawData(kind) => return SinkResult::RawData(kind),
            }
        }
    }

    fn is_foreign(&self, token: &Token<'_>) -> bool {
        if let Token::Eof = token {
            return false;
        }
        let Some(&node) = self.open.last() else {
            return false;
        };
        let el = self.tree.el(node);
        if el.ns == Ns::Html {
            return false;
        }
        let chars = matches!(token, Token::Chars(..) | Token::Null);
        let start = match token {
            Token::Tag(t) if t.kind == super::token::Kind::Start => Some(t.name),
            _ => None,
        };
        if mathml_text_integration_point(el)
            && (chars || start.is_some_and(|n| n != MGLYPH && n != MALIGNMARK))
        {
            return false;
        }
        if svg_html_integration_point(el) && (chars || start.is_some()) {
            return false;
        }
        if el.ns == Ns::MathMl && el.name == ANNOTATION_XML {
            if start == Some(SVG) {
                return false;
            }
            if chars || start.is_some() {
                return !self.tree.node(node).annotation_html;
            }
        }
        true
    }

    // --- The stack of open elements. Every change goes through these, which keep each node's
    // `open` flag (used by "reconstruct the active formatting elements") in step.

    pub(super) fn push(&mut self, node: u32) {
        self.tree.node_mut(node).open = true;
        self.open.push(node);
    }

    pub(super) fn pop(&mut self) -> u32 {
        let node = self.open.pop().expect("no current element");
        self.tree.node_mut(node).open = false;
        node
    }

    pub(super) fn truncate(&mut self, len: usize) {
        while self.open.len() > len {
            self.pop();
        }
    }

    fn remove_at(&mut self, i: usize) {
        let node = self.open.remove(i);
        self.tree.node_mut(node).open = false;
    }

    pub(super) fn remove_from_stack(&mut self, node: u32) {
        if let Some(i) = self.open.iter().rposition(|&n| n == node) {
            self.remove_at(i);
        }
    }

    pub(super) fn current(&self) -> u32 {
        *self.open.last().expect("no current element")
    }

    pub(super) fn current_el(&self) -> El {
        self.tree.el(self.current())
    }

    pub(super) fn current_is(&self, name: Name) -> bool {
        self.current_el().is(name)
    }

    /// Any HTML element named `name` on the stack.
    pub(super) fn in_html_elem_named(&self, name: Name) -> bool {
        self.open.iter().any(|&n| self.tree.el(n).is(name))
    }

    /// The `<body>` element, if it is second on the stack.
    pub(super) fn body_elem(&self) -> Option<u32> {
        let &node = self.open.get(1)?;
        self.tree.el(node).is(BODY).then_some(node)
    }

    pub(super) fn in_scope(&self, scope: fn(El) -> bool, pred: impl Fn(u32, El) -> bool) -> bool {
        for &node in self.open.iter().rev() {
            let el = self.tree.el(node);
            if pred(node, el) {
                return true;
            }
            if scope(el) {
                return false;
            }
        }
        false
    }

    pub(super) fn in_scope_named(&self, scope: fn(El) -> bool, name: Name) -> bool {
        self.in_scope(scope, |_, el| el.is(name))
    }

    pub(super) fn generate_implied_end(&mut self, set: impl Fn(El) -> bool) {
        while let Some(&node) = self.open.last() {
            if !set(self.tree.el(node)) {
                return;
            }
            self.pop();
        }
    }

    pub(super) fn generate_implied_end_except(&mut self, except: Name) {
        self.generate_implied_end(|el| !el.is(except) && cursory_implied_end(el));
    }

    /// Pops until the current node is in `set`.
    pub(super) fn pop_until_current(&mut self, set: fn(El) -> bool) {
        while !set(self.current_el()) {
            self.pop();
        }
    }

    /// Pops until an element in `set` has been popped.
    pub(super) fn pop_until(&mut self, set: impl Fn(El) -> bool) {
        while let Some(node) = self.open.pop() {
            self.tree.node_mut(node).open = false;
            if set(self.tree.el(node)) {
                break;
            }
        }
    }

    pub(super) fn pop_until_named(&mut self, name: Name) {
        self.pop_until(|el| el.is(name));
    }

    pub(super) fn close_p_element(&mut self) {
        self.generate_implied_end(|el| !el.is(P) && cursory_implied_end(el));
        self.pop_until_named(P);
    }

    pub(super) fn close_p_element_in_button_scope(&mut self) {
        if self.in_scope_named(button_scope, P) {
            self.close_p_element();
        }
    }

    // --- Creating and inserting nodes.

    /// Records the links of a new element `el`, if it carries any: the index of its record in
    /// `recs`, or `NONE`.
    fn record_of(&mut self, el: El, attrs: &Attrs<'_>) -> u32 {
        match super::record::read(el, attrs) {
            Some(rec) => {
                self.recs.push(rec);
                (self.recs.len() - 1) as u32
            }
            None => NONE,
        }
    }

    /// Creates an element for a tag.
    pub(super) fn create(&mut self, el: El, attrs: &Attrs<'_>) -> u32 {
        let rec = self.record_of(el, attrs);
        let annotation_html = el.ns == Ns::MathMl
            && el.name == ANNOTATION_XML
            && attrs.get(b"encoding").is_some_and(|v| {
                v.eq_ignore_ascii_case(b"text/html")
                    || v.eq_ignore_ascii_case(b"application/xhtml+xml")
            });
        self.tree.create(el, rec, annotation_html)
    }

    fn appropriate_place(&self, override_target: Option<u32>) -> Place {
        let target = override_target.unwrap_or_else(|| self.current());
        let el = self.tree.el(target);
        if !(self.foster_parenting && el.is_any(&[TABLE, TBODY, TFOOT, THEAD, TR])) {
            if el.is(TEMPLATE) {
                return Place::LastChild(self.tree.node(target).contents);
            }
            return Place::LastChild(target);
        }
        for (i, &node) in self.open.iter().enumerate().rev() {
            let el = self.tree.el(node);
            if el.is(TEMPLATE) {
                return Place::LastChild(self.tree.node(node).contents);
            }
            if el.is(TABLE) {
                return Place::Foster {
                    table: node,
                    prev: self.open[i - 1],
                };
            }
        }
        Place::LastChild(self.open[0])
    }

    fn insert_at(&mut self, place: Place, node: u32) {
        match place {
            Place::LastChild(parent) => self.tree.append(parent, node),
            Place::Foster { table, prev } => {
                if self.tree.has_parent(table) {
                    self.tree.insert_before(table, node);
                } else {
                    self.tree.append(prev, node);
                }
            }
        }
    }

    /// Inserts a detached node at the appropriate place.
    pub(super) fn insert_appropriately(&mut self, node: u32, override_target: Option<u32>) {
        let place = self.appropriate_place(override_target);
        self.insert_at(place, node);
    }

    /// Creates an element for a tag, inserts it, and pushes it unless `push` is false.
    pub(super) fn insert_element(&mut self, push: bool, el: El, attrs: &Attrs<'_>) -> u32 {
        let node = self.create(el, attrs);
        self.insert_appropriately(node, None);
        if push {
            self.push(node);
        }
        node
    }

    /// Inserts an HTML element without attributes and pushes it.
    pub(super) fn insert_phantom(&mut self, name: Name) -> u32 {
        self.insert_element(true, El { ns: Ns::Html, name }, &Attrs::EMPTY)
    }

    /// Creates the `<html>` element and appends it to the document.
    pub(super) fn create_root(&mut self) {
        let node = self.tree.create(
            El {
                ns: Ns::Html,
                name: HTML,
            },
            NONE,
            false,
        );
        self.push(node);
        self.tree.append(super::tree::DOCUMENT, node);
    }

    /// Resets the insertion mode from the stack of open elements.
    pub(super) fn reset_insertion_mode(&self) -> Mode {
        for (i, &node) in self.open.iter().enumerate().rev() {
            let last = i == 0;
            let el = self.tree.el(node);
            if el.ns != Ns::Html {
                continue;
            }
            match el.name {
                SELECT => {
                    for &ancestor in self.open[..i].iter().rev() {
                        let a = self.tree.el(ancestor);
                        if a.is(TEMPLATE) {
                            return Mode::InSelect;
                        } else if a.is(TABLE) {
                            return Mode::InSelectInTable;
                        }
                    }
                    return Mode::InSelect;
                }
                TD | TH if !last => return Mode::InCell,
                TR => return Mode::InRow,
                TBODY | THEAD | TFOOT => return Mode::InTableBody,
                CAPTION => return Mode::InCaption,
                COLGROUP => return Mode::InColumnGroup,
                TABLE => return Mode::InTable,
                TEMPLATE => return *self.template_modes.last().expect("template mode"),
                HEAD if !last => return Mode::InHead,
                BODY => return Mode::InBody,
                FRAMESET => return Mode::InFrameset,
                HTML => {
                    return if self.head == NONE {
                        Mode::BeforeHead
                    } else {
                        Mode::AfterHead
                    };
                }
                _ => {}
            }
        }
        Mode::InBody
    }

    pub(super) fn close_the_cell(&mut self) {
        self.generate_implied_end(cursory_implied_end);
        self.pop_until(td_th);
        self.clear_fmt_to_marker();
    }

    /// Characters in a table: "in table text", or foster-parented right away.
    pub(super) fn process_chars_in_table<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if self.current_el().is_any(&[TABLE, TBODY, TFOOT, THEAD, TR]) {
            self.orig_mode = Some(self.mode);
            Res::Reprocess(Mode::InTableText, token)
        } else {
            self.foster_parent_in_body(token)
        }
    }

    pub(super) fn foster_parent_in_body<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        self.foster_parenting = true;
        let res = self.step(Mode::InBody, token);
        self.foster_parenting = false;
        res
    }

    /// `<input type=hidden>`.
    pub(super) fn is_type_hidden(attrs: &Attrs<'_>) -> bool {
        attrs
            .get(b"type")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"hidden"))
    }
}
