//! The reference extractor: html5ever builds the whole DOM (through `select`), and the links are
//! read from it element by element, in document order, by the table in the `links` module header.
//! It is the oracle the fast extractor is tested against, so it is written for obviousness, not
//! speed: every element is looked at, every attribute looked up by `select`'s own `attr`.

use select::document::Document;
use select::predicate::Element;

use super::{Kind, Link, Links, values};

/// The links of `html`, read from `select`'s DOM.
pub(super) fn extract(html: &str) -> Links {
    let doc = Document::from(html);
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
                    push(&mut links, Kind::Anchor, nofollow, href);
                }
            }
            "base" if links.base.is_none() => {
                links.base = node.attr("href").map(str::to_string);
            }
            "link" => {
                if let (Some(href), Some(rel)) = (node.attr("href"), node.attr("rel")) {
                    let rel = values::rel(rel.as_bytes());
                    if rel.stylesheet {
                        push(&mut links, Kind::Stylesheet, rel.nofollow, href);
                    } else if rel.related {
                        push(&mut links, Kind::Related, rel.nofollow, href);
                    }
                }
            }
            "iframe" | "frame" | "script" => {
                if let Some(src) = node.attr("src") {
                    let kind = if name == "script" {
                        Kind::Script
                    } else {
                        Kind::Frame
                    };
                    push(&mut links, kind, false, src);
                }
            }
            "img" => {
                if let Some(src) = node.attr("src") {
                    push(&mut links, Kind::Image, false, src);
                }
                if let Some(set) = node.attr("srcset") {
                    values::srcset(set.as_bytes(), |r| {
                        push(&mut links, Kind::Image, false, &set[r])
                    });
                }
            }
            "meta" => {
                let Some(content) = node.attr("content") else {
                    continue;
                };
                if has("http-equiv", "refresh") {
                    if let Some(r) = values::refresh_url(content.as_bytes()) {
                        push(&mut links, Kind::Refresh, false, &content[r]);
                    }
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
