//! The input stream exactly as html5ever 0.26 reads it.
//!
//! html5ever's tokenizer reads through a queue of buffers onto which it can push characters back,
//! normalises newlines on the fly (`\r\n` and `\r` become `\n`) with an "ignore the next `\n`"
//! flag, and has three ways to look at input that do *not* normalise: `peek` (used before
//! attribute values and inside character references), `eat` (`--`, `DOCTYPE`, `[CDATA[`,
//! `PUBLIC`, `SYSTEM`) and runs scanned in bulk. Those differences are observable — for instance
//! `href=\r\n"x"` loses its opening quote, because the `\r` seen by `peek` is consumed together
//! with the `\n` after it, and the quote with it — so this module reproduces the model itself
//! rather than a cleaned-up one: same flag, same pushback, same non-normalising peeks.
//!
//! It works on bytes. The reference decodes the body lossily first; every byte that can change
//! the tokenizer's course is ASCII, and a byte sequence that lossy decoding replaces never
//! contains ASCII, so reading bytes and decoding only the strings that come out (names, values)
//! gives the same strings. A non-ASCII character is read one byte at a time, which only ever
//! copies its bytes along.

/// A cursor over the body plus pushed-back bytes.
#[derive(Debug)]
pub(super) struct Input<'a> {
    /// The body.
    pub(super) bytes: &'a [u8],
    /// Next unread byte of `bytes`.
    pub(super) pos: usize,
    /// Pushed-back bytes, last one first; read before `bytes[pos..]`.
    back: Vec<u8>,
    /// A `\r` was just read as `\n`: drop the next byte if it is `\n`.
    pub(super) ignore_lf: bool,
    /// Hand `current` out again on the next read.
    pub(super) reconsume: bool,
    /// The last byte read (after normalisation).
    current: u8,
}

impl<'a> Input<'a> {
    /// A stream over `bytes`.
    pub(super) fn new(bytes: &'a [u8]) -> Input<'a> {
        Input {
            bytes,
            pos: 0,
            back: Vec::new(),
            ignore_lf: false,
            reconsume: false,
            current: 0,
        }
    }

    /// Whether bulk scanning of `bytes[pos..]` is equivalent to reading byte by byte: nothing
    /// pushed back, nothing to reconsume, no line feed to drop.
    #[inline]
    pub(super) fn plain(&self) -> bool {
        self.back.is_empty() && !self.reconsume && !self.ignore_lf
    }

    /// The unread part of the body (only meaningful when [`Input::plain`]).
    #[inline]
    pub(super) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    fn next_raw(&mut self) -> Option<u8> {
        if let Some(b) = self.back.pop() {
            return Some(b);
        }
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// The next byte, newlines normalised; `None` at the end.
    #[inline]
    pub(super) fn get(&mut self) -> Option<u8> {
        if self.reconsume {
            self.reconsume = false;
            return Some(self.current);
        }
        let mut c = self.next_raw()?;
        if self.ignore_lf {
            self.ignore_lf = false;
            if c == b'\n' {
                c = self.next_raw()?;
            }
        }
        if c == b'\r' {
            self.ignore_lf = true;
            c = b'\n';
        }
        self.current = c;
        Some(c)
    }

    /// The next byte as is (no normalisation), without consuming it.
    pub(super) fn peek(&self) -> Option<u8> {
        if self.reconsume {
            return Some(self.current);
        }
        self.back
            .last()
            .copied()
            .or_else(|| self.bytes.get(self.pos).copied())
    }

    /// Hand the last byte out again.
    pub(super) fn unget(&mut self) {
        self.reconsume = true;
    }

    /// Pushes `bytes` back in front of the input.
    pub(super) fn push_front(&mut self, bytes: &[u8]) {
        self.back.extend(bytes.iter().rev());
    }

    /// Consumes `pat` if the raw input starts with it (ASCII case-insensitively when `fold`).
    /// Running out of input counts as no match, as it does in the reference once the whole body
    /// has been fed.
    pub(super) fn eat(&mut self, pat: &[u8], fold: bool) -> bool {
        let n = pat.len();
        let back = self.back.len().min(n);
        let avail = back + self.bytes.len().saturating_sub(self.pos);
        if avail < n {
            // Not enough left; html5ever answers "no" at the end of input, unless it is already
            // a mismatch, which is also "no".
            return false;
        }
        let byte = |i: usize| -> u8 {
            if i < back {
                self.back[self.back.len() - 1 - i]
            } else {
                self.bytes[self.pos + i - back]
            }
        };
        let matches = (0..n).all(|i| {
            let b = byte(i);
            if fold {
                b.eq_ignore_ascii_case(&pat[i])
            } else {
                b == pat[i]
            }
        });
        if matches {
            self.back.truncate(self.back.len() - back);
            self.pos += n - back;
        }
        matches
    }

    /// Advances over `n` bytes of `rest()` (only when [`Input::plain`]).
    #[inline]
    pub(super) fn skip(&mut self, n: usize) {
        self.pos += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &mut Input<'_>) -> Vec<u8> {
        std::iter::from_fn(|| input.get()).collect()
    }

    #[test]
    fn newlines_are_normalised() {
        assert_eq!(
            read_all(&mut Input::new(b"a\r\nb\rc\n\r\r\n")),
            b"a\nb\nc\n\n\n"
        );
    }

    #[test]
    fn pushback_is_read_first_and_feeds_the_lf_flag() {
        let mut input = Input::new(b"\nxy");
        input.push_front(b"ab");
        input.ignore_lf = true;
        // The flag applies to the first byte read, pushed back or not.
        assert_eq!(read_all(&mut input), b"ab\nxy");
        let mut input = Input::new(b"z");
        input.push_front(b"\n");
        input.ignore_lf = true;
        assert_eq!(read_all(&mut input), b"z");
    }

    #[test]
    fn eat_sees_raw_bytes_across_pushback() {
        let mut input = Input::new(b"CTYPE html");
        input.push_front(b"do");
        assert!(!input.eat(b"doctypex", true));
        assert!(input.eat(b"doctype", true));
        assert_eq!(input.get(), Some(b' '));
        let mut input = Input::new(b"-");
        assert!(!input.eat(b"--", false));
        assert_eq!(input.get(), Some(b'-'));
    }
}
