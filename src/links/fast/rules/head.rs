//! Modes before the body: initial, before html, before head, in head, after head; and the text
//! mode of raw-text elements. ("In head noscript" exists only with scripting off, and the
//! reference parses with scripting on.)

use super::super::builder::{Builder, Mode, Res};
use super::super::names::*;
use super::super::token::{Kind::End, Kind::Start, RawKind, Split, Token};
use super::super::tree::NONE;

impl Builder {
    pub(super) fn initial<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Chars(Split::NotSplit, text) => Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => Res::Done,
            _ => {
                self.quirks = true;
                Res::Reprocess(Mode::BeforeHtml, token)
            }
        }
    }

    pub(super) fn before_html<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Chars(Split::NotSplit, text) => Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => Res::Done,
            Token::Tag(tag) if tag.is_start(HTML) => {
                self.create_root();
                self.mode = Mode::BeforeHead;
                Res::Done
            }
            Token::Tag(tag) if tag.kind == End && !matches!(tag.name, HEAD | BODY | HTML | BR) => {
                Res::Done
            }
            _ => {
                self.create_root();
                Res::Reprocess(Mode::BeforeHead, token)
            }
        }
    }

    pub(super) fn before_head<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Chars(Split::NotSplit, text) => Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => Res::Done,
            Token::Tag(tag) if tag.is_start(HTML) => self.in_body(token),
            Token::Tag(tag) if tag.is_start(HEAD) => {
                self.head = self.insert_element(true, html(HEAD), &tag.attrs);
                self.mode = Mode::InHead;
                Res::Done
            }
            Token::Tag(tag) if tag.kind == End && !matches!(tag.name, HEAD | BODY | HTML | BR) => {
                Res::Done
            }
            _ => {
                self.head = self.insert_phantom(HEAD);
                Res::Reprocess(Mode::InHead, token)
            }
        }
    }

    pub(super) fn in_head<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Chars(Split::NotSplit, text) => return Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => return Res::Done,
            Token::Tag(tag) => tag,
            _ => return self.in_head_anything_else(token),
        };
        match (tag.kind, tag.name) {
            (Start, HTML) => self.in_body(token),
            (Start, BASE | BASEFONT | BGSOUND | LINK | META) => {
                self.insert_element(false, html(tag.name), &tag.attrs);
                Res::Done
            }
            (Start, TITLE) => self.parse_raw_data(tag.name, &tag.attrs, RawKind::Rcdata),
            // Scripting is on, as in the reference: `<noscript>` is raw text.
            (Start, NOFRAMES | STYLE | NOSCRIPT) => {
                self.parse_raw_data(tag.name, &tag.attrs, RawKind::Rawtext)
            }
            (Start, SCRIPT) => self.parse_raw_data(tag.name, &tag.attrs, RawKind::ScriptData),
            (End, HEAD) => {
                self.pop();
                self.mode = Mode::AfterHead;
                Res::Done
            }
            (End, BODY | HTML | BR) => self.in_head_anything_else(token),
            (Start, TEMPLATE) => {
                self.insert_element(true, html(TEMPLATE), &tag.attrs);
                self.fmt.push(super::super::builder::Fmt::Marker);
                self.frameset_ok = false;
                self.mode = Mode::InTemplate;
                self.template_modes.push(Mode::InTemplate);
                Res::Done
            }
            (End, TEMPLATE) => {
                if self.in_html_elem_named(TEMPLATE) {
                    self.generate_implied_end(thorough_implied_end);
                    self.pop_until_named(TEMPLATE);
                    self.clear_fmt_to_marker();
                    self.template_modes.pop();
                    self.mode = self.reset_insertion_mode();
                }
                Res::Done
            }
            (Start, HEAD) | (End, _) => Res::Done,
            _ => self.in_head_anything_else(token),
        }
    }

    fn in_head_anything_else<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        self.pop();
        Res::Reprocess(Mode::AfterHead, token)
    }

    pub(super) fn after_head<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Chars(Split::NotSplit, text) => return Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => return Res::Done,
            Token::Tag(tag) => tag,
            _ => return self.after_head_anything_else(token),
        };
        match (tag.kind, tag.name) {
            (Start, HTML) => self.in_body(token),
            (Start, BODY) => {
                self.insert_element(true, html(BODY), &tag.attrs);
                self.frameset_ok = false;
                self.mode = Mode::InBody;
                Res::Done
            }
            (Start, FRAMESET) => {
                self.insert_element(true, html(FRAMESET), &tag.attrs);
                self.mode = Mode::InFrameset;
                Res::Done
            }
            (
                Start,
                BASE | BASEFONT | BGSOUND | LINK | META | NOFRAMES | SCRIPT | STYLE | TEMPLATE
                | TITLE,
            ) => {
                let head = self.head;
                debug_assert_ne!(head, NONE, "after head without a head");
                self.push(head);
                let result = self.in_head(token);
                self.remove_from_stack(head);
                result
            }
            (End, TEMPLATE) => self.in_head(token),
            (End, BODY | HTML | BR) => self.after_head_anything_else(token),
            (Start, HEAD) | (End, _) => Res::Done,
            _ => self.after_head_anything_else(token),
        }
    }

    fn after_head_anything_else<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        self.insert_phantom(BODY);
        Res::Reprocess(Mode::InBody, token)
    }

    pub(super) fn text<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Eof => {
                self.pop();
                let mode = self
                    .orig_mode
                    .take()
                    .expect("text mode without original mode");
                Res::Reprocess(mode, token)
            }
            Token::Tag(tag) if tag.kind == End => {
                self.pop();
                self.mode = self
                    .orig_mode
                    .take()
                    .expect("text mode without original mode");
                if tag.name == SCRIPT {
                    Res::Script
                } else {
                    Res::Done
                }
            }
            // Characters; nothing else reaches this mode.
            _ => Res::Done,
        }
    }

    /// The generic raw text and RCDATA element parsing algorithm.
    pub(super) fn parse_raw_data<'a>(
        &mut self,
        name: Name,
        attrs: &super::super::token::Attrs<'_>,
        kind: RawKind,
    ) -> Res<'a> {
        self.insert_element(true, html(name), attrs);
        self.orig_mode = Some(self.mode);
        self.mode = Mode::Text;
        Res::RawData(kind)
    }
}

/// An HTML element named `name`.
pub(super) fn html(name: Name) -> El {
    El { ns: Ns::Html, name }
}
