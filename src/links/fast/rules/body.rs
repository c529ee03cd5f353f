//! The "in body" insertion mode: where almost every link is made.

use super::super::builder::{Builder, Fmt, Mode, Res, any_not_space};
use super::super::names::*;
use super::super::token::{Attrs, Kind::Start, RawKind, Tag, Token};
use super::head::html;

impl Builder {
    pub(super) fn in_body<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Null | Token::Comment => Res::Done,
            Token::Chars(_, text) => {
                self.reconstruct_formatting();
                if self.frameset_ok && any_not_space(text) {
                    self.frameset_ok = false;
                }
                Res::Done
            }
            Token::Eof => {
                if self.template_modes.is_empty() {
                    Res::Done
                } else {
                    self.in_template(token)
                }
            }
            Token::Tag(tag) if tag.kind == Start => self.in_body_start(tag, token),
            Token::Tag(tag) => self.in_body_end(tag, token),
        }
    }

    fn in_body_start<'a>(&mut self, tag: Tag<'a>, token: Token<'a>) -> Res<'a> {
        let attrs = &tag.attrs;
        match tag.name {
            // Attributes would be merged into the root; nothing for links.
            HTML => Res::Done,
            BASE | BASEFONT | BGSOUND | LINK | META | NOFRAMES | SCRIPT | STYLE | TEMPLATE
            | TITLE => self.in_head(token),
            BODY => {
                if self.body_elem().is_some()
                    && self.open.len() != 1
                    && !self.in_html_elem_named(TEMPLATE)
                {
                    self.frameset_ok = false;
                }
                Res::Done
            }
            FRAMESET => {
                if !self.frameset_ok {
                    return Res::Done;
                }
                let Some(body) = self.body_elem() else {
                    return Res::Done;
                };
                // The whole body, links and all, leaves the document.
                self.tree.detach(body);
                self.truncate(1);
                self.insert_element(true, html(FRAMESET), attrs);
                self.mode = Mode::InFrameset;
                Res::Done
            }
            ADDRESS | ARTICLE | ASIDE | BLOCKQUOTE | CENTER | DETAILS | DIALOG | DIR | DIV | DL
            | FIELDSET | FIGCAPTION | FIGURE | FOOTER | HEADER | HGROUP | MAIN | NAV | OL | P
            | SECTION | SUMMARY | UL | MENU => {
                self.close_p_element_in_button_scope();
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                self.close_p_element_in_button_scope();
                if heading(self.current_el()) {
                    self.pop();
                }
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            PRE | LISTING => {
                self.close_p_element_in_button_scope();
                self.insert_element(true, html(tag.name), attrs);
                self.ignore_lf = true;
                self.frameset_ok = false;
                Res::Done
            }
            FORM => {
                if self.form != super::super::tree::NONE && !self.in_html_elem_named(TEMPLATE) {
                    return Res::Done;
                }
                self.close_p_element_in_button_scope();
                let node = self.insert_element(true, html(FORM), attrs);
                if !self.in_html_elem_named(TEMPLATE) {
                    self.form = node;
                }
                Res::Done
            }
            LI | DD | DT => {
                self.frameset_ok = false;
                let list = tag.name == LI;
                let mut to_close = None;
                for &node in self.open.iter().rev() {
                    let el = self.tree.el(node);
                    let can_close = if list {
                        el.is(LI)
                    } else {
                        el.is_any(&[DD, DT])
                    };
                    if can_close {
                        to_close = Some(el.name);
                        break;
                    }
                    if special(el) && !el.is_any(&[ADDRESS, DIV, P]) {
                        break;
                    }
                }
                if let Some(name) = to_close {
                    self.generate_implied_end_except(name);
                    self.pop_until_named(name);
                }
                self.close_p_element_in_button_scope();
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            PLAINTEXT => {
                self.close_p_element_in_button_scope();
                self.insert_element(true, html(PLAINTEXT), attrs);
                Res::Plaintext
            }
            BUTTON => {
                if self.in_scope_named(default_scope, BUTTON) {
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until_named(BUTTON);
                }
                self.reconstruct_formatting();
                self.insert_element(true, html(BUTTON), attrs);
                self.frameset_ok = false;
                Res::Done
            }
            A => {
                self.handle_misnested_a_tags();
                self.reconstruct_formatting();
                self.create_formatting_element(A, attrs);
                Res::Done
            }
            B | BIG | CODE | EM | FONT | I | S | SMALL | STRIKE | STRONG | TT | U => {
                self.reconstruct_formatting();
                self.create_formatting_element(tag.name, attrs);
                Res::Done
            }
            NOBR => {
                self.reconstruct_formatting();
                if self.in_scope_named(default_scope, NOBR) {
                    self.adoption_agency(NOBR);
                    self.reconstruct_formatting();
                }
                self.create_formatting_element(NOBR, attrs);
                Res::Done
            }
            APPLET | MARQUEE | OBJECT => {
                self.reconstruct_formatting();
                self.insert_element(true, html(tag.name), attrs);
                self.fmt.push(Fmt::Marker);
                self.frameset_ok = false;
                Res::Done
            }
            TABLE => {
                if !self.quirks {
                    self.close_p_element_in_button_scope();
                }
                self.insert_element(true, html(TABLE), attrs);
                self.frameset_ok = false;
                self.mode = Mode::InTable;
                Res::Done
            }
            AREA | BR | EMBED | IMG | KEYGEN | WBR | INPUT => {
                let keep_frameset_ok = tag.name == INPUT && Self::is_type_hidden(attrs);
                self.reconstruct_formatting();
                self.insert_element(false, html(tag.name), attrs);
                if !keep_frameset_ok {
                    self.frameset_ok = false;
                }
                Res::Done
            }
            PARAM | SOURCE | TRACK => {
                self.insert_element(false, html(tag.name), attrs);
                Res::Done
            }
            HR => {
                self.close_p_element_in_button_scope();
                self.insert_element(false, html(HR), attrs);
                self.frameset_ok = false;
                Res::Done
            }
            IMAGE => self.in_body(Token::Tag(Tag { name: IMG, ..tag })),
            TEXTAREA => {
                self.ignore_lf = true;
                self.frameset_ok = false;
                self.parse_raw_data(TEXTAREA, attrs, RawKind::Rcdata)
            }
            XMP => {
                self.close_p_element_in_button_scope();
                self.reconstruct_formatting();
                self.frameset_ok = false;
                self.parse_raw_data(XMP, attrs, RawKind::Rawtext)
            }
            IFRAME => {
                self.frameset_ok = false;
                self.parse_raw_data(IFRAME, attrs, RawKind::Rawtext)
            }
            NOEMBED => self.parse_raw_data(NOEMBED, attrs, RawKind::Rawtext),
            SELECT => {
                self.reconstruct_formatting();
                self.insert_element(true, html(SELECT), attrs);
                self.frameset_ok = false;
                self.mode = match self.mode {
                    Mode::InTable
                    | Mode::InCaption
                    | Mode::InTableBody
                    | Mode::InRow
                    | Mode::InCell => Mode::InSelectInTable,
                    _ => Mode::InSelect,
                };
                Res::Done
            }
            OPTGROUP | OPTION => {
                if self.current_is(OPTION) {
                    self.pop();
                }
                self.reconstruct_formatting();
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            RB | RTC => {
                if self.in_scope_named(default_scope, RUBY) {
                    self.generate_implied_end(cursory_implied_end);
                }
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            RP | RT => {
                if self.in_scope_named(default_scope, RUBY) {
                    self.generate_implied_end_except(RTC);
                }
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
            MATH => self.enter_foreign(tag, Ns::MathMl),
            SVG => self.enter_foreign(tag, Ns::Svg),
            CAPTION | COL | COLGROUP | FRAME | HEAD | TBODY | TD | TFOOT | TH | THEAD | TR => {
                Res::Done
            }
            // Scripting is on: `<noscript>` is raw text.
            NOSCRIPT => self.parse_raw_data(NOSCRIPT, attrs, RawKind::Rawtext),
            _ => {
                self.reconstruct_formatting();
                self.insert_element(true, html(tag.name), attrs);
                Res::Done
            }
        }
    }

    fn in_body_end<'a>(&mut self, tag: Tag<'a>, token: Token<'a>) -> Res<'a> {
        match tag.name {
            TEMPLATE => self.in_head(token),
            BODY => {
                if self.in_scope_named(default_scope, BODY) {
                    self.mode = Mode::AfterBody;
                }
                Res::Done
            }
            HTML => {
                if self.in_scope_named(default_scope, BODY) {
                    Res::Reprocess(Mode::AfterBody, token)
                } else {
                    Res::Done
                }
            }
            ADDRESS | ARTICLE | ASIDE | BLOCKQUOTE | BUTTON | CENTER | DETAILS | DIALOG | DIR
            | DIV | DL | FIELDSET | FIGCAPTION | FIGURE | FOOTER | HEADER | HGROUP | LISTING
            | MAIN | MENU | NAV | OL | PRE | SECTION | SUMMARY | UL => {
                if self.in_scope_named(default_scope, tag.name) {
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until_named(tag.name);
                }
                Res::Done
            }
            FORM => {
                if !self.in_html_elem_named(TEMPLATE) {
                    let node = std::mem::replace(&mut self.form, super::super::tree::NONE);
                    if node == super::super::tree::NONE
                        || !self.in_scope(default_scope, |n, _| n == node)
                    {
                        return Res::Done;
                    }
                    self.generate_implied_end(cursory_implied_end);
                    self.remove_from_stack(node);
                } else {
                    if !self.in_scope_named(default_scope, FORM) {
                        return Res::Done;
                    }
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until_named(FORM);
                }
                Res::Done
            }
            P => {
                if !self.in_scope_named(button_scope, P) {
                    self.insert_phantom(P);
                }
                self.close_p_element();
                Res::Done
            }
            LI | DD | DT => {
                let scope = if tag.name == LI {
                    list_item_scope
                } else {
                    default_scope
                };
                if self.in_scope_named(scope, tag.name) {
                    self.generate_implied_end_except(tag.name);
                    self.pop_until_named(tag.name);
                }
                Res::Done
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                if self.in_scope(default_scope, |_, el| heading(el)) {
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until(heading);
                }
                Res::Done
            }
            A | B | BIG | CODE | EM | FONT | I | NOBR | S | SMALL | STRIKE | STRONG | TT | U => {
                self.adoption_agency(tag.name);
                Res::Done
            }
            APPLET | MARQUEE | OBJECT => {
                if self.in_scope_named(default_scope, tag.name) {
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until_named(tag.name);
                    self.clear_fmt_to_marker();
                }
                Res::Done
            }
            BR => self.in_body(Token::Tag(Tag {
                kind: Start,
                attrs: Attrs::EMPTY,
                ..tag
            })),
            _ => {
                self.process_end_tag_in_body(tag.name);
                Res::Done
            }
        }
    }

    /// `<math>` or `<svg>` in body.
    fn enter_foreign<'a>(&mut self, tag: Tag<'a>, ns: Ns) -> Res<'a> {
        self.insert_element(!tag.self_closing, El { ns, name: tag.name }, &tag.attrs);
        Res::Done
    }
}
