//! Foreign content (SVG, MathML), and the modes after the body or a frameset.
//!
//! In foreign content `<a>`, `<area>` and `<base>` are SVG or MathML elements, and `select`
//! still reports them (it matches local names only), with `xlink:href` counting as `href`. A few
//! HTML start tags (`<p>`, `<div>`, `<table>`, `<font color>`, ...) break out of foreign content
//! first, and an HTML integration point (`<foreignObject>`, `<desc>`, `<title>`, an
//! `<annotation-xml>` with an HTML encoding, MathML text elements) switches back to HTML rules.

use super::super::builder::{Builder, Mode, Res};
use super::super::names::*;
use super::super::token::{Kind::End, Kind::Start, Split, Tag, Token};
use super::head::html;

impl Builder {
    /// Whitespace, comments, `<html>`: shared by the modes after the body or a frameset.
    fn after_common<'a>(&mut self, token: Token<'a>, whitespace_in_body: bool) -> Option<Res<'a>> {
        Some(match token {
            Token::Chars(Split::NotSplit, text) => Res::Split(text),
            Token::Chars(Split::Whitespace, _) if whitespace_in_body => self.in_body(token),
            Token::Chars(Split::Whitespace, _) | Token::Comment | Token::Eof => Res::Done,
            Token::Tag(tag) if tag.is_start(HTML) => self.in_body(token),
            _ => return None,
        })
    }

    pub(super) fn after_body<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Some(res) = self.after_common(token, true) {
            return res;
        }
        match token {
            Token::Tag(tag) if tag.kind == End && tag.name == HTML => {
                self.mode = Mode::AfterAfterBody;
                Res::Done
            }
            _ => Res::Reprocess(Mode::InBody, token),
        }
    }

    pub(super) fn in_frameset<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Some(res) = self.after_common(token, false) {
            return res;
        }
        let Token::Tag(tag) = token else {
            return Res::Done;
        };
        match (tag.kind, tag.name) {
            (Start, FRAMESET) => {
                self.insert_element(true, html(FRAMESET), &tag.attrs);
            }
            (End, FRAMESET) if self.open.len() != 1 => {
                self.pop();
                if !self.current_is(FRAMESET) {
                    self.mode = Mode::AfterFrameset;
                }
            }
            (Start, FRAME) => {
                self.insert_element(false, html(FRAME), &tag.attrs);
            }
            (Start, NOFRAMES) => return self.in_head(token),
            _ => {}
        }
        Res::Done
    }

    pub(super) fn after_frameset<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Some(res) = self.after_common(token, false) {
            return res;
        }
        match token {
            Token::Tag(tag) if tag.kind == End && tag.name == HTML => {
                self.mode = Mode::AfterAfterFrameset;
                Res::Done
            }
            Token::Tag(tag) if tag.is_start(NOFRAMES) => self.in_head(token),
            _ => Res::Done,
        }
    }

    pub(super) fn after_after_body<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Some(res) = self.after_common(token, true) {
            return res;
        }
        Res::Reprocess(Mode::InBody, token)
    }

    pub(super) fn after_after_frameset<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Some(res) = self.after_common(token, true) {
            return res;
        }
        match token {
            Token::Tag(tag) if tag.is_start(NOFRAMES) => self.in_head(token),
            _ => Res::Done,
        }
    }

    /// A token in foreign content.
    pub(in crate::links::fast) fn step_foreign<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Null | Token::Comment | Token::Eof => return Res::Done,
            Token::Chars(_, text) => {
                if self.frameset_ok && super::super::builder::any_not_space(text) {
                    self.frameset_ok = false;
                }
                return Res::Done;
            }
            Token::Tag(tag) => tag,
        };
        if tag.kind == End {
            return self.foreign_end_tag(tag, token);
        }
        let breaks_out = match tag.name {
            B | BIG | BLOCKQUOTE | BODY | BR | CENTER | CODE | DD | DIV | DL | DT | EM | EMBED
            | H1 | H2 | H3 | H4 | H5 | H6 | HEAD | HR | I | IMG | LI | LISTING | MENU | META
            | NOBR | OL | P | PRE | RUBY | S | SMALL | SPAN | STRONG | STRIKE | SUB | SUP
            | TABLE | TT | U | UL | VAR => true,
            FONT => tag
                .attrs
                .iter()
                .any(|(n, _)| matches!(n, b"color" | b"face" | b"size")),
            _ => false,
        };
        if breaks_out {
            self.pop();
            while !{
                let el = self.current_el();
                el.ns == Ns::Html
                    || mathml_text_integration_point(el)
                    || svg_html_integration_point(el)
            } {
                self.pop();
            }
            return Res::ReprocessForeign(token);
        }
        let ns = self.current_el().ns;
        self.insert_element(!tag.self_closing, El { ns, name: tag.name }, &tag.attrs);
        Res::Done
    }

    fn foreign_end_tag<'a>(&mut self, tag: Tag<'a>, token: Token<'a>) -> Res<'a> {
        let mut first = true;
        let mut i = self.open.len() - 1;
        loop {
            if i == 0 {
                return Res::Done;
            }
            let el = self.tree.el(self.open[i]);
            if !first && el.ns == Ns::Html {
                return self.step(self.mode, token);
            }
            // Names are kept as the lowercase tag names they came from, so comparing them is
            // html5ever's ASCII-case-insensitive comparison of (possibly camel-cased) names.
            if el.name == tag.name {
                self.truncate(i);
                return Res::Done;
            }
            first = false;
            i -= 1;
        }
    }
}
