//! Table modes (where foster parenting happens), select modes and the template mode.

use super::super::builder::{Builder, Fmt, Mode, Res, any_not_space};
use super::super::names::*;
use super::super::token::{Kind::End, Kind::Start, Split, Token};
use super::super::tree::NONE;
use super::head::html;

impl Builder {
    pub(super) fn in_table<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Null | Token::Chars(..) => return self.process_chars_in_table(token),
            Token::Comment => return Res::Done,
            Token::Eof => return self.in_body(token),
            Token::Tag(tag) => tag,
        };
        match (tag.kind, tag.name) {
            (Start, CAPTION) => {
                self.pop_until_current(table_scope);
                self.fmt.push(Fmt::Marker);
                self.insert_element(true, html(CAPTION), &tag.attrs);
                self.mode = Mode::InCaption;
                Res::Done
            }
            (Start, COLGROUP) => {
                self.pop_until_current(table_scope);
                self.insert_element(true, html(COLGROUP), &tag.attrs);
                self.mode = Mode::InColumnGroup;
                Res::Done
            }
            (Start, COL) => {
                self.pop_until_current(table_scope);
                self.insert_phantom(COLGROUP);
                Res::Reprocess(Mode::InColumnGroup, token)
            }
            (Start, TBODY | TFOOT | THEAD) => {
                self.pop_until_current(table_scope);
                self.insert_element(true, html(tag.name), &tag.attrs);
                self.mode = Mode::InTableBody;
                Res::Done
            }
            (Start, TD | TH | TR) => {
                self.pop_until_current(table_scope);
                self.insert_phantom(TBODY);
                Res::Reprocess(Mode::InTableBody, token)
            }
            (Start, TABLE) => {
                if self.in_scope_named(table_scope, TABLE) {
                    self.pop_until_named(TABLE);
                    Res::Reprocess(self.reset_insertion_mode(), token)
                } else {
                    Res::Done
                }
            }
            (End, TABLE) => {
                if self.in_scope_named(table_scope, TABLE) {
                    self.pop_until_named(TABLE);
                    self.mode = self.reset_insertion_mode();
                }
                Res::Done
            }
            (
                End,
                BODY | CAPTION | COL | COLGROUP | HTML | TBODY | TD | TFOOT | TH | THEAD | TR,
            ) => Res::Done,
            (Start, STYLE | SCRIPT | TEMPLATE) | (End, TEMPLATE) => self.in_head(token),
            (Start, INPUT) => {
                if Self::is_type_hidden(&tag.attrs) {
                    self.insert_element(false, html(INPUT), &tag.attrs);
                    Res::Done
                } else {
                    self.foster_parent_in_body(token)
                }
            }
            (Start, FORM) => {
                if !self.in_html_elem_named(TEMPLATE) && self.form == NONE {
                    self.form = self.insert_element(false, html(FORM), &tag.attrs);
                }
                Res::Done
            }
            _ => self.foster_parent_in_body(token),
        }
    }

    pub(super) fn in_table_text<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Null => Res::Done,
            Token::Chars(split, text) => {
                self.pending.any = true;
                self.pending.nonspace |= match split {
                    Split::Whitespace => false,
                    Split::NotWhitespace => true,
                    Split::NotSplit => any_not_space(text),
                };
                Res::Done
            }
            _ => {
                let pending = std::mem::take(&mut self.pending);
                if pending.nonspace {
                    // Each pending token goes through "in body" with foster parenting; only the
                    // first can reconstruct anything, and one of them has non-space text.
                    self.foster_parenting = true;
                    self.reconstruct_formatting();
                    self.foster_parenting = false;
                    self.frameset_ok = false;
                }
                let mode = self
                    .orig_mode
                    .take()
                    .expect("table text without original mode");
                Res::Reprocess(mode, token)
            }
        }
    }

    pub(super) fn in_caption<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let Token::Tag(tag) = token else {
            return self.in_body(token);
        };
        match (tag.kind, tag.name) {
            (Start, CAPTION | COL | COLGROUP | TBODY | TD | TFOOT | TH | THEAD | TR)
            | (End, TABLE | CAPTION) => {
                if !self.in_scope_named(table_scope, CAPTION) {
                    return Res::Done;
                }
                self.generate_implied_end(cursory_implied_end);
                self.pop_until_named(CAPTION);
                self.clear_fmt_to_marker();
                if tag.kind == End && tag.name == CAPTION {
                    self.mode = Mode::InTable;
                    Res::Done
                } else {
                    Res::Reprocess(Mode::InTable, token)
                }
            }
            (End, BODY | COL | COLGROUP | HTML | TBODY | TD | TFOOT | TH | THEAD | TR) => Res::Done,
            _ => self.in_body(token),
        }
    }

    pub(super) fn in_column_group<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        match token {
            Token::Chars(Split::NotSplit, text) => return Res::Split(text),
            Token::Chars(Split::Whitespace, _) | Token::Comment => return Res::Done,
            Token::Eof => return self.in_body(token),
            Token::Tag(tag) => match (tag.kind, tag.name) {
                (Start, HTML) => return self.in_body(token),
                (Start, COL) => {
                    self.insert_element(false, html(COL), &tag.attrs);
                    return Res::Done;
                }
                (End, COLGROUP) => {
                    if self.current_is(COLGROUP) {
                        self.pop();
                        self.mode = Mode::InTable;
                    }
                    return Res::Done;
                }
                (End, COL) => return Res::Done,
                (Start | End, TEMPLATE) => return self.in_head(token),
                _ => {}
            },
            _ => {}
        }
        if self.current_is(COLGROUP) {
            self.pop();
            Res::Reprocess(Mode::InTable, token)
        } else {
            Res::Done
        }
    }

    pub(super) fn in_table_body<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let Token::Tag(tag) = token else {
            return self.in_table(token);
        };
        match (tag.kind, tag.name) {
            (Start, TR) => {
                self.pop_until_current(table_body_context);
                self.insert_element(true, html(TR), &tag.attrs);
                self.mode = Mode::InRow;
                Res::Done
            }
            (Start, TH | TD) => {
                self.pop_until_current(table_body_context);
                self.insert_phantom(TR);
                Res::Reprocess(Mode::InRow, token)
            }
            (End, TBODY | TFOOT | THEAD) => {
                if self.in_scope_named(table_scope, tag.name) {
                    self.pop_until_current(table_body_context);
                    self.pop();
                    self.mode = Mode::InTable;
                }
                Res::Done
            }
            (Start, CAPTION | COL | COLGROUP | TBODY | TFOOT | THEAD) | (End, TABLE) => {
                if self.in_scope(table_scope, |_, el| el.is_any(&[TABLE, TBODY, TFOOT])) {
                    self.pop_until_current(table_body_context);
                    self.pop();
                    Res::Reprocess(Mode::InTable, token)
                } else {
                    Res::Done
                }
            }
            (End, BODY | CAPTION | COL | COLGROUP | HTML | TD | TH | TR) => Res::Done,
            _ => self.in_table(token),
        }
    }

    pub(super) fn in_row<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let Token::Tag(tag) = token else {
            return self.in_table(token);
        };
        match (tag.kind, tag.name) {
            (Start, TH | TD) => {
                self.pop_until_current(table_row_context);
                self.insert_element(true, html(tag.name), &tag.attrs);
                self.mode = Mode::InCell;
                self.fmt.push(Fmt::Marker);
                Res::Done
            }
            (End, TR) => {
                if self.in_scope_named(table_scope, TR) {
                    self.pop_until_current(table_row_context);
                    self.pop();
                    self.mode = Mode::InTableBody;
                }
                Res::Done
            }
            (Start, CAPTION | COL | COLGROUP | TBODY | TFOOT | THEAD | TR) | (End, TABLE) => {
                if self.in_scope_named(table_scope, TR) {
                    self.pop_until_current(table_row_context);
                    self.pop();
                    Res::Reprocess(Mode::InTableBody, token)
                } else {
                    Res::Done
                }
            }
            (End, TBODY | TFOOT | THEAD) => {
                if !self.in_scope_named(table_scope, tag.name) {
                    return Res::Done;
                }
                if self.in_scope_named(table_scope, TR) {
                    self.pop_until_current(table_row_context);
                    self.pop();
                    Res::Reprocess(Mode::InTableBody, token)
                } else {
                    Res::Done
                }
            }
            (End, BODY | CAPTION | COL | COLGROUP | HTML | TD | TH) => Res::Done,
            _ => self.in_table(token),
        }
    }

    pub(super) fn in_cell<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let Token::Tag(tag) = token else {
            return self.in_body(token);
        };
        match (tag.kind, tag.name) {
            (End, TD | TH) => {
                if self.in_scope_named(table_scope, tag.name) {
                    self.generate_implied_end(cursory_implied_end);
                    self.pop_until_named(tag.name);
                    self.clear_fmt_to_marker();
                    self.mode = Mode::InRow;
                }
                Res::Done
            }
            (Start, CAPTION | COL | COLGROUP | TBODY | TD | TFOOT | TH | THEAD | TR) => {
                if self.in_scope(table_scope, |_, el| td_th(el)) {
                    self.close_the_cell();
                    Res::Reprocess(Mode::InRow, token)
                } else {
                    Res::Done
                }
            }
            (End, BODY | CAPTION | COL | COLGROUP | HTML) => Res::Done,
            (End, TABLE | TBODY | TFOOT | THEAD | TR) => {
                if self.in_scope_named(table_scope, tag.name) {
                    self.close_the_cell();
                    Res::Reprocess(Mode::InRow, token)
                } else {
                    Res::Done
                }
            }
            _ => self.in_body(token),
        }
    }

    pub(super) fn in_select<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Null | Token::Chars(..) | Token::Comment => return Res::Done,
            Token::Eof => return self.in_body(token),
            Token::Tag(tag) => tag,
        };
        match (tag.kind, tag.name) {
            (Start, HTML) => self.in_body(token),
            (Start, OPTION) => {
                if self.current_is(OPTION) {
                    self.pop();
                }
                self.insert_element(true, html(OPTION), &tag.attrs);
                Res::Done
            }
            (Start, OPTGROUP) => {
                if self.current_is(OPTION) {
                    self.pop();
                }
                if self.current_is(OPTGROUP) {
                    self.pop();
                }
                self.insert_element(true, html(OPTGROUP), &tag.attrs);
                Res::Done
            }
            (End, OPTGROUP) => {
                let n = self.open.len();
                if n >= 2 && self.current_is(OPTION) && self.tree.el(self.open[n - 2]).is(OPTGROUP)
                {
                    self.pop();
                }
                if self.current_is(OPTGROUP) {
                    self.pop();
                }
                Res::Done
            }
            (End, OPTION) => {
                if self.current_is(OPTION) {
                    self.pop();
                }
                Res::Done
            }
            (Start | End, SELECT) => {
                if self.in_scope_named(select_scope, SELECT) {
                    self.pop_until_named(SELECT);
                    self.mode = self.reset_insertion_mode();
                }
                Res::Done
            }
            (Start, INPUT | KEYGEN | TEXTAREA) => {
                if self.in_scope_named(select_scope, SELECT) {
                    self.pop_until_named(SELECT);
                    Res::Reprocess(self.reset_insertion_mode(), token)
                } else {
                    Res::Done
                }
            }
            (Start, SCRIPT | TEMPLATE) | (End, TEMPLATE) => self.in_head(token),
            // Anything else, `<a>` included, is dropped: a link inside `<select>` does not exist.
            _ => Res::Done,
        }
    }

    pub(super) fn in_select_in_table<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        if let Token::Tag(tag) = token {
            if matches!(
                tag.name,
                CAPTION | TABLE | TBODY | TFOOT | THEAD | TR | TD | TH
            ) {
                if tag.kind == Start {
                    self.pop_until_named(SELECT);
                    return Res::Reprocess(self.reset_insertion_mode(), token);
                }
                if self.in_scope_named(table_scope, tag.name) {
                    self.pop_until_named(SELECT);
                    return Res::Reprocess(self.reset_insertion_mode(), token);
                }
                return Res::Done;
            }
        }
        self.in_select(token)
    }

    pub(super) fn in_template<'a>(&mut self, token: Token<'a>) -> Res<'a> {
        let tag = match token {
            Token::Chars(..) | Token::Comment => return self.in_body(token),
            Token::Eof => {
                if !self.in_html_elem_named(TEMPLATE) {
                    return Res::Done;
                }
                self.pop_until_named(TEMPLATE);
                self.clear_fmt_to_marker();
                self.template_modes.pop();
                self.mode = self.reset_insertion_mode();
                return Res::Reprocess(self.reset_insertion_mode(), token);
            }
            Token::Null => return Res::Done,
            Token::Tag(tag) => tag,
        };
        let switch = |b: &mut Builder, mode: Mode| {
            b.template_modes.pop();
            b.template_modes.push(mode);
            Res::Reprocess(mode, token)
        };
        match (tag.kind, tag.name) {
            (
                Start,
                BASE | BASEFONT | BGSOUND | LINK | META | NOFRAMES | SCRIPT | STYLE | TEMPLATE
                | TITLE,
            )
            | (End, TEMPLATE) => self.in_head(token),
            (Start, CAPTION | COLGROUP | TBODY | TFOOT | THEAD) => switch(self, Mode::InTable),
            (Start, COL) => switch(self, Mode::InColumnGroup),
            (Start, TR) => switch(self, Mode::InTableBody),
            (Start, TD | TH) => switch(self, Mode::InRow),
            (Start, _) => switch(self, Mode::InBody),
            (End, _) => Res::Done,
        }
    }
}
