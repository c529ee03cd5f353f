//! Reading back the pages a case renders beside its nodes: robots.txt files and sitemaps.
//!
//! Like the node pages, nothing is guessed: each reader takes what the renderer writes, and
//! [`Case::from_site`](super::Case::from_site) checks that the case read back renders the very
//! same site file.

use crawler_site::PageSpec;

use super::super::robots::{Agent, Group, RobotsFile, Rule};
use super::super::sitemaps::SitemapFile;
use super::host_index;

/// The host index of `url` when it is `http://<host>/robots.txt`.
pub(super) fn robots_host(url: &str) -> Option<usize> {
    let host = url.strip_prefix("http://")?.strip_suffix("/robots.txt")?;
    host_index(host)
}

/// The host index, sitemap index and gzip flag of `url` when it is a sitemap's URL
/// (`http://<host>/s<k>.xml`, `.xml.gz` when gzipped).
pub(super) fn sitemap_at(url: &str) -> Option<(usize, usize, bool)> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let (stem, gzip) = match path.strip_suffix(".xml.gz") {
        Some(stem) => (stem, true),
        None => (path.strip_suffix(".xml")?, false),
    };
    let digits = stem.strip_prefix('s')?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let k: usize = digits.parse().ok().filter(|_| canonical)?;
    Some((host_index(host)?, k, gzip))
}

/// The robots.txt file a page renders.
pub(super) fn robots_file(page: &PageSpec) -> Result<RobotsFile, String> {
    if let Some(status) = page.redirect {
        let location = page.location.as_deref().unwrap_or_default();
        let to = robots_host(location).ok_or_else(|| format!("redirect to {location:?}"))?;
        return Ok(RobotsFile::Redirect { status, to });
    }
    let text = page.body.as_deref().unwrap_or_default();
    match page.status {
        Some(200) => {}
        Some(status) => return Ok(RobotsFile::Status(status)),
        None => return Err("no status".into()),
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut open = false; // a group is being read (no blank line since its first line)
    let (mut crawl_delay_64ths, mut sitemaps) = (None, Vec::new());
    for line in text.lines() {
        if line.is_empty() {
            open = false;
            continue;
        }
        let (field, value) = line
            .split_once(": ")
            .or_else(|| line.strip_suffix(':').map(|f| (f, "")))
            .ok_or_else(|| format!("line {line:?}"))?;
        if field == "Sitemap" {
            let (_, k, _) = sitemap_at(value).ok_or_else(|| format!("sitemap {value:?}"))?;
            sitemaps.push(k);
            continue;
        }
        if !open {
            groups.push(Group {
                agents: Vec::new(),
                rules: Vec::new(),
            });
            open = true;
        }
        let group = groups.last_mut().expect("pushed above");
        match field {
            "User-agent" => group.agents.push(match value {
                "Crawler" => Agent::Us,
                "*" => Agent::Star,
                "otherbot" => Agent::Other,
                _ => return Err(format!("user-agent {value:?}")),
            }),
            "Allow" | "Disallow" => group.rules.push(Rule {
                allow: field == "Allow",
                pattern: value.to_string(),
            }),
            "Crawl-delay" => {
                let seconds: f64 = value.parse().map_err(|_| format!("delay {value:?}"))?;
                let n = seconds * 64.0;
                if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
                    return Err(format!("delay {value:?}"));
                }
                crawl_delay_64ths = Some(n as u32);
            }
            _ => return Err(format!("line {line:?}")),
        }
    }
    Ok(RobotsFile::Rules {
        groups,
        crawl_delay_64ths,
        sitemaps,
    })
}

/// What a sitemap's page holds: its entries' texts come back as `Urls` hrefs or `Index`
/// sitemap URLs, for the caller to read as edges or sitemap indices.
pub(super) enum SitemapPage {
    /// A `<urlset>` with these `<loc>` texts.
    Urls(Vec<String>),
    /// A `<sitemapindex>` with these `<loc>` texts.
    Index(Vec<String>),
    /// Anything else, read whole.
    File(SitemapFile),
}

/// The sitemap a page renders.
pub(super) fn sitemap_page(page: &PageSpec) -> Result<SitemapPage, String> {
    if page.redirect.is_some() {
        let location = page.location.as_deref().unwrap_or_default();
        let (_, k, _) = sitemap_at(location).ok_or_else(|| format!("redirect {location:?}"))?;
        return Ok(SitemapPage::File(SitemapFile::Redirect(k)));
    }
    match page.status {
        Some(200) => {}
        Some(status) => return Ok(SitemapPage::File(SitemapFile::Status(status))),
        None => return Err("no status".into()),
    }
    let body = page.body.as_deref().unwrap_or_default();
    let index = body.contains("<sitemapindex");
    let unescape = |s: &str| s.replace("&lt;", "<").replace("&amp;", "&");
    let locs = body
        .split("<loc>")
        .skip(1)
        .map(|rest| rest.split_once("</loc>").map(|(loc, _)| unescape(loc)))
        .collect::<Option<Vec<String>>>()
        .ok_or("a <loc> without its end")?;
    Ok(if index {
        SitemapPage::Index(locs)
    } else {
        SitemapPage::Urls(locs)
    })
}
