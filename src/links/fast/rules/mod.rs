//! The insertion-mode rules, ported from html5ever 0.26's `rules.rs` one arm at a time.
//!
//! html5ever writes them as one `match_token!` per mode; here each mode is a function matching
//! on `(kind, name)`. Arm order matters where the reference's does (the first matching arm wins,
//! and `=> else` arms fall through to the catch-all), so it is kept. Parse errors, comments and
//! text insertion have no effect on the skeleton and reduce to `Done`.

mod body;
mod foreign;
mod head;
mod table;

use super::builder::{Builder, Mode, Res};
use super::token::Token;

impl Builder {
    /// Processes `token` by the rules of `mode`.
    pub(super) fn step<'a>(&mut self, mode: Mode, token: Token<'a>) -> Res<'a> {
        match mode {
            Mode::Initial => self.initial(token),
            Mode::BeforeHtml => self.before_html(token),
            Mode::BeforeHead => self.before_head(token),
            Mode::InHead => self.in_head(token),
            Mode::AfterHead => self.after_head(token),
            Mode::InBody => self.in_body(token),
            Mode::Text => self.text(token),
            Mode::InTable => self.in_table(token),
            Mode::InTableText => self.in_table_text(token),
            Mode::InCaption => self.in_caption(token),
            Mode::InColumnGroup => self.in_column_group(token),
            Mode::InTableBody => self.in_table_body(token),
            Mode::InRow => self.in_row(token),
            Mode::InCell => self.in_cell(token),
            Mode::InSelect => self.in_select(token),
            Mode::InSelectInTable => self.in_select_in_table(token),
            Mode::InTemplate => self.in_template(token),
            Mode::AfterBody => self.after_body(token),
            Mode::InFrameset => self.in_frameset(token),
            Mode::AfterFrameset => self.after_frameset(token),
            Mode::AfterAfterBody => self.after_after_body(token),
            Mode::AfterAfterFrameset => self.after_after_frameset(token),
        }
    }
}
