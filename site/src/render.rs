//! Rendering pages into responses: the HTML of a page with links, redirects, raw bodies, and
//! the 404 of unlisted URLs (see [`crate`]).

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::spec::FINAL_STATUSES;
use super::{Page, PageSpec};

const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// Checks one page and renders its response.
pub(super) fn render(url: &str, spec: PageSpec) -> Result<Page, String> {
    if let Some(faults) = &spec.faults {
        faults.check().map_err(|e| format!("faults: {e}"))?;
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let (status, body) = if let Some(status) = spec.redirect {
        if !REDIRECTS.contains(&status) {
            return Err(format!(
                "redirect {status} is not one of 301, 302, 303, 307, 308"
            ));
        }
        let html_or_body = [
            ("links", spec.links.is_some()),
            ("nofollow", spec.nofollow.is_some()),
            ("images", spec.images.is_some()),
            ("base", spec.base.is_some()),
            ("meta_robots", spec.meta_robots.is_some()),
            ("pad", spec.pad.is_some()),
            ("body", spec.body.is_some()),
            ("gzip", spec.gzip),
            ("status", spec.status.is_some()),
            ("content_type", spec.content_type.is_some()),
        ];
        if let Some((name, _)) = html_or_body.iter().find(|(_, set)| *set) {
            return Err(format!("a redirect cannot have {name:?}"));
        }
        if let Some(location) = spec.location {
            headers.push(("location".into(), location));
        }
        (status, Bytes::new())
    } else {
        if spec.location.is_some() {
            return Err("\"location\" needs \"redirect\"".into());
        }
        let status = spec.status.unwrap_or(200);
        if !FINAL_STATUSES.contains(&status) {
            return Err(format!(
                "status {status} is not a final HTTP status (200 to 599): a real client never \
                 gets it as an answer"
            ));
        }
        let body = match spec.body {
            Some(body) => {
                let html_only = [
                    ("links", spec.links.is_some()),
                    ("nofollow", spec.nofollow.is_some()),
                    ("images", spec.images.is_some()),
                    ("base", spec.base.is_some()),
                    ("meta_robots", spec.meta_robots.is_some()),
                    ("pad", spec.pad.is_some()),
                ];
                if let Some((name, _)) = html_only.iter().find(|(_, set)| *set) {
                    return Err(format!("a raw \"body\" cannot have {name:?}"));
                }
                if let Some(ct) = spec.content_type {
                    headers.push(("content-type".into(), ct));
                }
                if spec.gzip {
                    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
                    gz.write_all(body.as_bytes())
                        .and_then(|()| gz.finish())
                        .map(Bytes::from)
                        .map_err(|e| format!("gzip: {e}"))?
                } else {
                    Bytes::from(body)
                }
            }
            None if spec.gzip => return Err("\"gzip\" needs a raw \"body\"".into()),
            None => {
                let ct = spec
                    .content_type
                    .unwrap_or_else(|| "text/html; charset=utf-8".into());
                headers.push(("content-type".into(), ct));
                let links = spec.links.unwrap_or_default();
                let nofollow = spec.nofollow.unwrap_or_default();
                let images = spec.images.unwrap_or_default();
                let pad = spec.pad.unwrap_or(0);
                if pad > MAX_PAD {
                    return Err(format!("pad {pad} is over {MAX_PAD} bytes"));
                }
                let mut html = String::new();
                let size = html_size(&links, pad) + html_size(&nofollow, 0) + html_size(&images, 0);
                html.try_reserve_exact(size)
                    .map_err(|_| format!("no memory for a body of {pad} bytes of pad"))?;
                let extra = Extra {
                    meta_robots: spec.meta_robots.as_deref(),
                    nofollow: &nofollow,
                    images: &images,
                };
                write_html(&mut html, &links, extra, spec.base.as_deref(), pad);
                Bytes::from(html)
            }
        };
        (status, body)
    };
    headers.extend(spec.headers);
    Ok(Page {
        url: url.into(),
        status,
        headers: headers.into(),
        body,
        script: spec.script.into_boxed_slice(),
        faults: spec.faults,
    })
}

/// The most filler one page may ask for: 1 GiB.
const MAX_PAD: usize = 1 << 30;

/// A small HTML document with one `<a href>` per link, an optional `<base href>`, and `pad`
/// bytes of filler text.
pub fn render_html(links: &[String], base: Option<&str>, pad: Option<usize>) -> String {
    let pad = pad.unwrap_or(0);
    let mut html = String::with_capacity(html_size(links, pad));
    let extra = Extra {
        meta_robots: None,
        nofollow: &[],
        images: &[],
    };
    write_html(&mut html, links, extra, base, pad);
    html
}

/// About the size of [`render_html`]'s document (more if the links need escaping).
fn html_size(links: &[String], pad: usize) -> usize {
    64 + links.iter().map(|l| l.len() + 24).sum::<usize>() + pad
}

/// The links of an HTML page besides its plain `<a href>`s.
#[derive(Clone, Copy)]
struct Extra<'a> {
    /// Rendered as `<meta name="robots" content>`.
    meta_robots: Option<&'a str>,
    /// Rendered as `<a rel="nofollow" href>`.
    nofollow: &'a [String],
    /// Rendered as `<img src>`.
    images: &'a [String],
}

fn write_html(
    html: &mut String,
    links: &[String],
    extra: Extra<'_>,
    base: Option<&str>,
    pad: usize,
) {
    html.push_str("<!doctype html><html><head>");
    if let Some(content) = extra.meta_robots {
        html.push_str("<meta name=\"robots\" content=\"");
        escape_into(html, content);
        html.push_str("\">");
    }
    if let Some(base) = base {
        html.push_str("<base href=\"");
        escape_into(html, base);
        html.push_str("\">");
    }
    html.push_str("</head><body>\n");
    for link in links {
        html.push_str("<a href=\"");
        escape_into(html, link);
        html.push_str("\">link</a>\n");
    }
    for link in extra.nofollow {
        html.push_str("<a rel=\"nofollow\" href=\"");
        escape_into(html, link);
        html.push_str("\">link</a>\n");
    }
    for src in extra.images {
        html.push_str("<img src=\"");
        escape_into(html, src);
        html.push_str("\">\n");
    }
    if pad > 0 {
        const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
        html.push_str("<p>");
        let mut left = pad;
        while left > 0 {
            let n = left.min(FILLER.len());
            html.push_str(&FILLER[..n]);
            left -= n;
        }
        html.push_str("</p>\n");
    }
    html.push_str("</body></html>\n");
}

/// Escapes `text` for a double-quoted HTML attribute value.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}
