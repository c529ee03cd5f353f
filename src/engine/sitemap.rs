//! Sitemaps (sitemaps.org): `<urlset>` files feed page URLs to the frontier, `<sitemapindex>`
//! files name more sitemaps. Found through robots.txt `Sitemap:` lines and `--sitemap URL`.
//!
//! Sitemaps are untrusted input and can be huge, so the reader caps everything: the decompressed
//! size (`MAX_SITEMAP_BYTES`, the protocol's 50 MiB), the number of `<loc>`s per file (the
//! protocol's 50,000) and the nesting of indexes (`MAX_INDEX_DEPTH`). A gzipped sitemap
//! (`.xml.gz`, or any body starting with the gzip magic) is decompressed within the same cap. A
//! malformed file yields the locations read before the error.
//!
//! ```text
//! <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
//!   <url><loc>http://example.com/a?x=1&amp;y=2</loc></url>
//! </urlset>
//! ```

use std::io::Read;

use flate2::read::GzDecoder;
use quick_xml::Reader;
use quick_xml::events::Event;

/// Decompressed bytes read from one sitemap at most.
pub(crate) const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;

/// `<loc>`s read from one sitemap at most.
pub(crate) const MAX_LOCS: usize = 50_000;

/// How deep sitemap indexes may nest (an index listing indexes listing sitemaps).
pub(crate) const MAX_INDEX_DEPTH: u32 = 2;

/// What a sitemap file lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SitemapKind {
    /// Page URLs (`<urlset>`).
    Pages,
    /// More sitemaps (`<sitemapindex>`).
    Sitemaps,
}

/// The locations of one sitemap file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sitemap {
    /// Whether the locations are pages or sitemaps.
    pub kind: SitemapKind,
    /// The `<loc>` values, entities decoded, whitespace trimmed.
    pub locs: Vec<String>,
    /// What went wrong, if reading stopped early (the locations before it are kept).
    pub problem: Option<String>,
}

/// Reads a sitemap body (gzipped or not).
pub(crate) fn parse(body: &[u8]) -> Sitemap {
    let mut problem = None;
    let unzipped;
    let xml: &[u8] = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let limit = MAX_SITEMAP_BYTES as u64 + 1;
        if let Err(e) = GzDecoder::new(body).take(limit).read_to_end(&mut out) {
            problem = Some(format!("gzip: {e}"));
        }
        unzipped = out;
        &unzipped
    } else {
        body
    };
    let xml = if xml.len() > MAX_SITEMAP_BYTES {
        problem = Some(format!("larger than {MAX_SITEMAP_BYTES} bytes; cut"));
        &xml[..MAX_SITEMAP_BYTES]
    } else {
        xml
    };
    let mut sitemap = read_locs(xml);
    if sitemap.problem.is_none() {
        sitemap.problem = problem;
    }
    sitemap
}

fn read_locs(xml: &[u8]) -> Sitemap {
    let mut reader = Reader::from_reader(xml);
    let mut kind = None;
    let mut locs = Vec::new();
    let mut in_loc = false;
    let mut open = 0usize;
    let mut text = String::new();
    let mut buf = Vec::new();
    let problem = loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                open += 1;
                let name = e.local_name();
                let name = name.as_ref();
                if kind.is_none() {
                    kind = match name {
                        b"urlset" => Some(SitemapKind::Pages),
                        b"sitemapindex" => Some(SitemapKind::Sitemaps),
                        _ => {
                            break Some(
                                "not a sitemap (root is neither urlset nor sitemapindex)".into(),
                            );
                        }
                    };
                } else if name == b"loc" {
                    in_loc = true;
                    text.clear();
                }
            }
            Ok(Event::Text(t)) if in_loc => match t.decode() {
                Ok(s) => text.push_str(&s),
                Err(e) => break Some(format!("bad text in <loc>: {e}")),
            },
            Ok(Event::GeneralRef(r)) if in_loc => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => match r.decode().ok().as_deref() {
                    Some("amp") => text.push('&'),
                    Some("lt") => text.push('<'),
                    Some("gt") => text.push('>'),
                    Some("quot") => text.push('"'),
                    Some("apos") => text.push('\''),
                    _ => break Some("unknown entity in <loc>".into()),
                },
            },
            Ok(Event::CData(t)) if in_loc => text.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::End(e)) if in_loc && e.local_name().as_ref() == b"loc" => {
                open = open.saturating_sub(1);
                in_loc = false;
                let loc = text.trim();
                if !loc.is_empty() {
                    locs.push(loc.to_string());
                }
                if locs.len() >= MAX_LOCS {
                    break Some(format!("more than {MAX_LOCS} locations; cut"));
                }
            }
            Ok(Event::End(_)) => open = open.saturating_sub(1),
            Ok(Event::Eof) if open > 0 => break Some("document cut short".into()),
            Ok(Event::Eof) => break None,
            Ok(_) => {}
            Err(e) => {
                break Some(format!(
                    "xml error at byte {}: {e}",
                    reader.error_position()
                ));
            }
        }
        buf.clear();
    };
    Sitemap {
        kind: kind.unwrap_or(SitemapKind::Pages),
        locs,
        problem: if kind.is_none() && problem.is_none() {
            Some("empty sitemap".into())
        } else {
            problem
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn check(xml: &str, kind: SitemapKind, locs: &[&str], problem: bool) {
        let s = parse(xml.as_bytes());
        assert_eq!(s.kind, kind, "{xml}");
        assert_eq!(s.locs, locs, "{xml}");
        assert_eq!(s.problem.is_some(), problem, "{xml}: {:?}", s.problem);
    }

    #[test]
    fn urlsets_and_indexes() {
        check(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc> http://h/a?x=1&amp;y=2 </loc><lastmod>2026-01-01</lastmod></url>
              <url><loc>http://h/&#233;t&#xE9;</loc></url>
              <url><loc><![CDATA[http://h/c]]></loc></url>
              <url><loc></loc></url>
            </urlset>"#,
            SitemapKind::Pages,
            &["http://h/a?x=1&y=2", "http://h/été", "http://h/c"],
            false,
        );
        check(
            r#"<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sm:sitemap><sm:loc>http://h/s1.xml.gz</sm:loc></sm:sitemap>
            </sm:sitemapindex>"#,
            SitemapKind::Sitemaps,
            &["http://h/s1.xml.gz"],
            false,
        );
    }

    #[test]
    fn broken_input_keeps_what_came_before() {
        check(
            "<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b",
            SitemapKind::Pages,
            &["http://h/a"],
            true,
        );
        check("<html><a href=x></a></html>", SitemapKind::Pages, &[], true);
        check("", SitemapKind::Pages, &[], true);
        check(
            "<urlset><url><loc>&bogus;</loc></url></urlset>",
            SitemapKind::Pages,
            &[],
            true,
        );
        check("\u{0}\u{1}garbage<<<", SitemapKind::Pages, &[], true);
    }

    #[test]
    fn gzip_is_read_within_the_cap() {
        let xml = "<urlset><url><loc>http://h/z</loc></url></urlset>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(xml.as_bytes()).unwrap();
        let body = gz.finish().unwrap();
        let s = parse(&body);
        assert_eq!(s.locs, ["http://h/z"]);
        assert!(s.problem.is_none());
        let s = parse(&body[..body.len() / 2]);
        assert!(s.problem.is_some());
    }
}
