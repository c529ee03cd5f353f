//! The fast link extractor: `select`'s answer without `select`'s DOM.
//!
//! The reference ([`super::extract_dom`]) parses with html5ever into an `RcDom` (reference-counted
//! nodes, attribute vectors, merged text nodes), copies that into `select`'s node vector, and
//! walks it. Most of that work is about text and attributes no link depends on. This module runs
//! the same parse — a byte-level port of html5ever 0.26's tokenizer and tree builder — but keeps
//! only an element skeleton: names, parent/child links, and for the elements that carry links a
//! small record of where their link attributes are ([`record`]). Text is looked at (whitespace or
//! not, because that decides insertion modes and whether formatting elements are reconstructed)
//! and dropped; comments are skipped; attribute values are decoded only to be handed to the
//! elements that need them.
//!
//! Why a port and not a scanner for `<a href>`: the reference's answer depends on tree
//! construction. `<a>` misnested around a `<p>` is cloned when formatting elements are
//! reconstructed (one tag, two links); stray table content is foster-parented before the table
//! (links out of source order); `<frameset>` can drop a body with its links; `<template>`
//! contents and `<select>` swallow links; `<svg>` turns `<a>` into an SVG element with
//! `xlink:href`. A scanner that ignores those is wrong on real pages, and "same links, same
//! order" on every input leaves no room for approximations. So the port keeps html5ever's
//! states and algorithms, quirks included, and the tests compare against `select` on fixtures and
//! on random HTML.
//!
//! Parts: [`tokenizer`] (with [`input`] and [`charref`]) turns bytes into tokens; [`builder`] and
//! [`rules`] build the skeleton ([`tree`]) with the tag sets of [`names`], the quirks-mode
//! decision of [`doctype`] and the link records of [`record`]; [`extract`] walks the result in
//! tree order.

mod builder;
mod charref;
mod doctype;
mod input;
mod names;
mod record;
mod rules;
mod token;
mod tokenizer;
mod tree;

use super::{Kind, Link, Links, values};
use record::{NO_SPAN, Role};
use tree::NONE;

pub(in crate::links) use tokenizer::Spare;

/// Extracts the links of `body`, exactly as [`super::extract_dom`] does on its lossy UTF-8
/// decoding, into `links` (empty), in the buffers `spare` holds (and leaves there for the next
/// document), with URL strings taken from `strings` while it has some.
pub(super) fn extract(
    body: &[u8],
    spare: &mut Spare,
    links: &mut Links,
    strings: &mut Vec<String>,
) {
    let mut tokenizer = tokenizer::Tokenizer::reusing(body, std::mem::take(spare));
    tokenizer.run();
    collect(&tokenizer, links, strings);
    // The buffers grow with the document; those of a huge one are not worth keeping.
    if body.len() <= KEEP_MAX {
        *spare = tokenizer.into_spare();
    }
}

/// The largest body whose buffers are kept for the next document (they are about as large).
const KEEP_MAX: usize = 1 << 20;

/// The links of a document `tokenizer` has run over, in tree order, into `links` (empty).
fn collect(tokenizer: &tokenizer::Tokenizer<'_>, links: &mut Links, strings: &mut Vec<String>) {
    let builder = &tokenizer.sink;
    let buf = &tokenizer.buf[..];
    let bytes = |(start, end): (u32, u32)| &buf[start as usize..end as usize];
    links.links.reserve(builder.recs.len());
    let mut push = |links: &mut Links, kind, nofollow, url: &[u8]| {
        let url = text(url, strings.pop());
        links.links.push(Link {
            url,
            kind,
            nofollow,
        })
    };
    builder.tree.preorder(|node| {
        if node.rec == NONE {
            return;
        }
        let rec = builder.recs[node.rec as usize];
        match rec.role {
            Role::Link(kind, nofollow) => push(links, kind, nofollow, bytes(rec.first)),
            Role::Base => {
                if links.base.is_none() {
                    links.base = Some(text(bytes(rec.first), None));
                }
            }
            Role::Img => {
                if rec.first != NO_SPAN {
                    push(links, Kind::Image, false, bytes(rec.first));
                }
                if rec.second != NO_SPAN {
                    let set = bytes(rec.second);
                    values::srcset(set, |r| push(links, Kind::Image, false, &set[r]));
                }
            }
            Role::Meta { refresh, robots } => {
                let content = bytes(rec.first);
                if refresh {
                    if let Some(r) = values::refresh_url(content) {
                        push(links, Kind::Refresh, false, &content[r]);
                    }
                }
                if robots {
                    links.robots.add(content);
                }
            }
        }
    });
}

/// `bytes` as a string, invalid UTF-8 replaced as lossy decoding does, written into `reuse`
/// (emptied first) when given.
fn text(bytes: &[u8], reuse: Option<String>) -> String {
    let mut s = reuse.unwrap_or_default();
    s.clear();
    // Validation alone is much faster than lossy decoding, and almost every value is valid.
    match std::str::from_utf8(bytes) {
        Ok(t) => s.push_str(t),
        Err(_) => s.push_str(&String::from_utf8_lossy(bytes)),
    }
    s
}

/// The element skeleton of `body`, one line per element in tree order: depth, namespace and
/// lowercase name. The tests compare it with `select`'s tree, a stronger check than the links.
#[cfg(test)]
pub(super) fn skeleton(body: &[u8]) -> Vec<String> {
    let mut tokenizer = tokenizer::Tokenizer::new(body);
    tokenizer.run();
    let names = &tokenizer.names;
    tokenizer
        .sink
        .tree
        .elements_with_depth()
        .into_iter()
        .map(|(depth, el)| {
            let ns = match el.ns {
                names::Ns::Html => "html",
                names::Ns::Svg => "svg",
                names::Ns::MathMl => "math",
            };
            format!("{depth} {ns}:{}", names.text(el.name))
        })
        .collect()
}
