//! The reference extractor: html5ever builds the whole DOM, handed to `select`, and the links are
//! read from it element by element, in tree order, by the table in the `links` module header.
//! It is the oracle the streaming extractor is tested against, so it is written for obviousness,
//! not speed: every element is looked at, every attribute looked up by `select`'s own `attr`.
//!
//! `select`'s own `Document::from` parses as a browser with scripting enabled, where
//! `<noscript>` is raw text. A crawler runs no scripts, so the tree is built here with
//! html5ever's `scripting_enabled: false` and given to `select` as its node list ([`document`]).

use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{ParseOpts, parse_document};
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use select::document::Document;
use select::node::{Data, Raw};
use select::predicate::Element;

use super::{Link, LinkKind, Links, values};

/// `html` parsed as a browser with scripting disabled would, as a `select` document: every
/// element, text and comment node of the tree (template contents are not in it), in tree order.
pub(crate) fn document(html: &str) -> Document {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            scripting_enabled: false,
            ..TreeBuilderOpts::default()
        },
        ..ParseOpts::default()
    };
    let dom = parse_document(RcDom::default(), opts).one(html);
    let mut doc = Document { nodes: Vec::new() };
    for child in dom.document.children.borrow().iter() {
        add(&mut doc, child, None);
    }
    doc
}

/// Appends `node` and its subtree to `doc` under `parent`, linking siblings as `select` does.
fn add(doc: &mut Document, node: &Handle, parent: Option<usize>) {
    let data = match &node.data {
        NodeData::Element { name, attrs, .. } => {
            let attrs = attrs.borrow();
            let attrs = attrs.iter().map(|a| (a.name.clone(), a.value.clone()));
            Data::Element(name.clone(), attrs.collect())
        }
        NodeData::Text { contents } => Data::Text(contents.borrow().clone()),
        NodeData::Comment { contents } => Data::Comment(contents.clone()),
        _ => return,
    };
    let index = doc.nodes.len();
    let prev = parent.map_or_else(
        || doc.nodes.iter().rposition(|n| n.parent.is_none()),
        |p| doc.nodes[p].last_child,
    );
    doc.nodes.push(Raw {
        index,
        parent,
        prev,
        next: None,
        first_child: None,
        last_child: None,
        data,
    });
    if let Some(prev) = prev {
        doc.nodes[prev].next = Some(index);
    }
    if let Some(p) = parent {
        let p = &mut doc.nodes[p];
        p.first_child.get_or_insert(index);
        p.last_child = Some(index);
    }
    for child in node.children.borrow().iter() {
        add(doc, child, Some(index));
    }
}

/// The links of `html`, read from `select`'s DOM.
pub(super) fn extract(html: &str) -> Links {
    let doc = document(html);
    let mut links = Links::default();
    let push = |links: &mut Links, kind, nofollow, url: &str| {
        links.links.push(Link {
            url: url.to_string(),
            kind,
            nofollow,
        })
    };
    for node in doc.find(Element) {
        let Some(name) = node.name() else { continue };
        let has = |attr: &str, value: &str| {
            node.attr(attr)
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        };
        match name {
            "a" | "area" => {
                if let Some(href) = node.attr("href") {
                    let rel = node.attr("rel").unwrap_or("");
                    let nofollow = values::has_token(rel.as_bytes(), b"nofollow");
                    push(&mut links, LinkKind::Anchor, nofollow, href);
                }
            }
            "base" if links.base.is_none() => {
                links.base = node.attr("href").map(str::to_string);
            }
            "link" => {
                if let (Some(href), Some(rel)) = (node.attr("href"), node.attr("rel")) {
                    let rel = values::rel(rel.as_bytes());
                    if let Some(kind) = rel.kind() {
                        push(&mut links, kind, rel.nofollow, href);
                    }
                }
            }
            "iframe" | "frame" | "script" => {
                if let Some(src) = node.attr("src") {
                    let kind = if name == "script" {
                        LinkKind::Script
                    } else {
                        LinkKind::Frame
                    };
                    push(&mut links, kind, false, src);
                }
            }
            "img" | "source" => {
                if let Some(src) = node.attr("src").filter(|_| name == "img") {
                    push(&mut links, LinkKind::Image, false, src);
                }
                if let Some(set) = node.attr("srcset") {
                    values::srcset(set.as_bytes(), |r| {
                        push(&mut links, LinkKind::Image, false, &set[r])
                    });
                }
            }
            "meta" => {
                let Some(content) = node.attr("content") else {
                    continue;
                };
                if has("http-equiv", "refresh")
                    && let Some(r) = values::refresh_url(content.as_bytes())
                {
                    push(&mut links, LinkKind::Refresh, false, &content[r]);
                }
                if has("name", "robots") {
                    links.robots.add(content.as_bytes());
                }
            }
            _ => {}
        }
    }
    links
}
