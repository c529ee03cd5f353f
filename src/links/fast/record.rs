//! Link records: which attributes of a new element carry links, read once when the element is
//! created.
//!
//! The table of elements and attributes is the one in the `links` module header; the reference
//! (`extract_dom`) applies the same table to `select`'s DOM. The record keeps byte ranges of the
//! tokenizer's attribute text, not strings: text is decoded only for the elements that end up in
//! the final tree (a link in a `<template>` or in a body `<frameset>` drops costs no string), and
//! once per element however often the tree builder clones it. `rel` and the `<meta>` names are
//! decided here, so a record is a few words and the final walk looks up no attributes.

use super::names::{A, AREA, BASE, El, FRAME, IFRAME, IMG, LINK, META, Ns, SCRIPT};
use super::token::Attrs;
use crate::links::{Kind, values};

/// A byte range of the tokenizer's attribute text.
pub(super) type Span = (u32, u32);

/// "No attribute" in a [`Rec`].
pub(super) const NO_SPAN: Span = (u32::MAX, u32::MAX);

/// What an element's link record means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// One link, `first` its URL.
    Link(Kind, bool),
    /// A `<base>`, `first` its `href`.
    Base,
    /// An `<img>`, `first` its `src` and `second` its `srcset` (either may be [`NO_SPAN`]).
    Img,
    /// A `<meta>`, `first` its `content`: a refresh, robots directives, or both.
    Meta {
        /// `http-equiv=refresh`.
        refresh: bool,
        /// `name=robots`.
        robots: bool,
    },
}

/// The link-bearing attributes of one element, kept when it is created (clones share it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Rec {
    /// How to read the spans.
    pub(super) role: Role,
    /// The main value.
    pub(super) first: Span,
    /// A second value, for `<img srcset>`.
    pub(super) second: Span,
}

impl Rec {
    fn link(kind: Kind, nofollow: bool, url: Span) -> Rec {
        Rec {
            role: Role::Link(kind, nofollow),
            first: url,
            second: NO_SPAN,
        }
    }
}

/// The link record of a new element `el` with `attrs`, if it carries any link.
pub(super) fn read(el: El, attrs: &Attrs<'_>) -> Option<Rec> {
    // `select` looks attributes up by local name; in SVG and MathML, `xlink:href` has been
    // adjusted to the local name `href`.
    let href = |attrs: &Attrs<'_>| {
        if el.ns == Ns::Html {
            attrs.value_range(&[b"href"])
        } else {
            attrs.value_range(&[b"href", b"xlink:href"])
        }
    };
    let rec = match el.name {
        A | AREA => {
            let url = href(attrs)?;
            let nofollow = attrs
                .get(b"rel")
                .is_some_and(|r| values::has_token(r, b"nofollow"));
            Rec::link(Kind::Anchor, nofollow, url)
        }
        BASE => {
            let url = href(attrs)?;
            Rec {
                role: Role::Base,
                first: url,
                second: NO_SPAN,
            }
        }
        LINK => {
            let (Some(url), Some(rel)) = (href(attrs), attrs.get(b"rel")) else {
                return None;
            };
            let rel = values::rel(rel);
            let kind = if rel.stylesheet {
                Kind::Stylesheet
            } else if rel.related {
                Kind::Related
            } else {
                return None;
            };
            Rec::link(kind, rel.nofollow, url)
        }
        IFRAME | FRAME | SCRIPT => {
            let url = attrs.value_range(&[b"src"])?;
            let kind = if el.name == SCRIPT {
                Kind::Script
            } else {
                Kind::Frame
            };
            Rec::link(kind, false, url)
        }
        IMG => {
            let src = attrs.value_range(&[b"src"]);
            let srcset = attrs.value_range(&[b"srcset"]);
            if src.is_none() && srcset.is_none() {
                return None;
            }
            Rec {
                role: Role::Img,
                first: src.unwrap_or(NO_SPAN),
                second: srcset.unwrap_or(NO_SPAN),
            }
        }
        META => {
            let content = attrs.value_range(&[b"content"])?;
            let is = |name: &[u8], value: &[u8]| {
                attrs
                    .get(name)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            };
            let refresh = is(b"http-equiv", b"refresh");
            let robots = is(b"name", b"robots");
            if !(refresh || robots) {
                return None;
            }
            Rec {
                role: Role::Meta { refresh, robots },
                first: content,
                second: NO_SPAN,
            }
        }
        _ => return None,
    };
    Some(rec)
}
