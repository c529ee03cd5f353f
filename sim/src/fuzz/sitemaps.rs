//! Sitemaps of fuzz cases: `<urlset>` files listing nodes, `<sitemapindex>` files listing
//! sitemaps, redirects between sitemaps, error statuses, gzipped or not.
//!
//! Sitemap `k` lives at `http://<host>/s<k>.xml` (`.xml.gz` when gzipped), a path no node has,
//! so a URL is a sitemap or a page, never both. A case names sitemaps as crawl options
//! (`--sitemap`) and in robots.txt `Sitemap` lines; indexes and redirects name more. Their
//! entries are edges spelled like links ([`Edge`]), resolved against the sitemap's URL.

use super::case::{Case, Edge, HOSTS};

/// What a sitemap answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SitemapFile {
    /// A `<urlset>` listing pages.
    Urls(Vec<Edge>),
    /// A `<sitemapindex>` listing sitemaps (indices in [`Case::sitemaps`]).
    Index(Vec<usize>),
    /// A 301 to another sitemap (an index in [`Case::sitemaps`]; maybe itself).
    Redirect(usize),
    /// This status and a short body.
    Status(u16),
}

/// One sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sitemap {
    /// Index in [`HOSTS`].
    pub host: usize,
    /// Served gzipped (a `.xml.gz` file).
    pub gzip: bool,
    /// What it answers.
    pub file: SitemapFile,
}

impl Case {
    /// Sitemap `k`'s URL.
    pub fn sitemap_url(&self, k: usize) -> String {
        let sitemap = &self.sitemaps[k];
        let gz = if sitemap.gzip { ".gz" } else { "" };
        format!("http://{}/s{k}.xml{gz}", HOSTS[sitemap.host])
    }

    /// Sitemap `k`'s body (XML for a `<urlset>` or `<sitemapindex>`), before any gzip.
    pub fn sitemap_body(&self, k: usize) -> String {
        let escape = |s: String| s.replace('&', "&amp;").replace('<', "&lt;");
        let (root, item, locs): (&str, &str, Vec<String>) = match &self.sitemaps[k].file {
            SitemapFile::Urls(edges) => {
                let locs = edges.iter().map(|e| escape(self.href(e))).collect();
                ("urlset", "url", locs)
            }
            SitemapFile::Index(list) => {
                let locs = list.iter().map(|&j| escape(self.sitemap_url(j))).collect();
                ("sitemapindex", "sitemap", locs)
            }
            SitemapFile::Status(status) => return format!("status {status}"),
            SitemapFile::Redirect(_) => return String::new(),
        };
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <{root} xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        );
        for loc in locs {
            xml.push_str(&format!("  <{item}><loc>{loc}</loc></{item}>\n"));
        }
        xml.push_str(&format!("</{root}>\n"));
        xml
    }

    /// The status sitemap `k` answers.
    pub fn sitemap_status(&self, k: usize) -> u16 {
        match self.sitemaps[k].file {
            SitemapFile::Urls(_) | SitemapFile::Index(_) => 200,
            SitemapFile::Redirect(_) => 301,
            SitemapFile::Status(status) => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::case::{Form, Node, NodeKind, Target};
    use super::*;

    #[test]
    fn urls_and_bodies() {
        let mut case = Case::new(vec![Node::new(NodeKind::Unlisted); 2]);
        case.nodes[1].query = true;
        case.sitemaps = vec![
            Sitemap {
                host: 0,
                gzip: false,
                file: SitemapFile::Urls(vec![
                    Edge::Node(Target::Node(1), Form::Absolute),
                    Edge::Garbage(0),
                ]),
            },
            Sitemap {
                host: 1,
                gzip: true,
                file: SitemapFile::Index(vec![0]),
            },
        ];
        assert_eq!(case.sitemap_url(0), "http://a.test/s0.xml");
        assert_eq!(case.sitemap_url(1), "http://www.a.test/s1.xml.gz");
        let body = case.sitemap_body(0);
        assert!(
            body.contains("<url><loc>http://a.test/n1?a=1&amp;b=2</loc></url>"),
            "{body}"
        );
        assert!(body.contains("<url><loc>http://[</loc></url>"), "{body}");
        let index = case.sitemap_body(1);
        assert!(index.contains("<sitemapindex"), "{index}");
        assert!(index.contains("<sitemap><loc>http://a.test/s0.xml</loc></sitemap>"));
        assert_eq!(case.sitemap_status(1), 200);
    }
}
