//! The site file a case renders: node pages, robots.txt files and sitemaps.

use std::collections::BTreeMap;

use crawler_site::{PageSpec, SiteSpec};

use super::super::robots::RobotsFile;
use super::super::sitemaps::SitemapFile;
use super::{Case, HOSTS, META_ROBOTS, NodeKind};

impl Case {
    /// The site file of this case.
    pub fn site(&self) -> SiteSpec {
        let mut spec = SiteSpec::default();
        spec.roots = self.root_urls();
        spec.unreachable = self
            .network
            .unreachable
            .iter()
            .map(|&h| HOSTS[h].to_string())
            .collect();
        spec.latency = self.network.latency;
        spec.faults = self.network.faults;
        let mut pages = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let mut page = PageSpec::default();
            match &node.kind {
                NodeKind::Html { links, base } => {
                    page.links = Some(links.iter().map(|l| self.href(l)).collect());
                    page.base = Case::base(base);
                    page.meta_robots = node.meta_robots.map(|i| META_ROBOTS[i].to_string());
                    if !node.nofollow.is_empty() {
                        page.nofollow = Some(node.nofollow.iter().map(|l| self.href(l)).collect());
                    }
                    if !node.images.is_empty() {
                        page.images = Some(node.images.iter().map(|l| self.href(l)).collect());
                    }
                }
                NodeKind::Redirect { status, location } => {
                    page.redirect = Some(*status);
                    page.location = self.location(i, location);
                }
                NodeKind::Status(status) => {
                    page.status = Some(*status);
                    page.body = Some(format!("status {status}"));
                }
                NodeKind::Text => {
                    page.body = Some(format!("<a href=\"{}\">not a link</a>", self.url(0)));
                    page.content_type = Some("text/plain".into());
                }
                NodeKind::Unlisted => continue,
            }
            page.script = node.script.clone();
            page.faults = node.faults;
            pages.insert(self.url(i), page);
        }
        for (&host, file) in &self.robots_files {
            let mut page = PageSpec::default();
            match file {
                RobotsFile::Redirect { status, to } => {
                    page.redirect = Some(*status);
                    page.location = Some(format!("http://{}/robots.txt", HOSTS[*to]));
                }
                _ => {
                    page.status = Some(file.status());
                    page.body = Some(file.text(|k| self.sitemap_url(k)));
                    page.content_type = Some("text/plain".into());
                }
            }
            pages.insert(format!("http://{}/robots.txt", HOSTS[host]), page);
        }
        for (k, sitemap) in self.sitemaps.iter().enumerate() {
            let mut page = PageSpec::default();
            if let SitemapFile::Redirect(to) = sitemap.file {
                page.redirect = Some(301);
                page.location = Some(self.sitemap_url(to));
            } else {
                page.status = Some(self.sitemap_status(k));
                page.body = Some(self.sitemap_body(k));
                page.content_type = Some("application/xml".into());
                page.gzip = sitemap.gzip;
            }
            pages.insert(self.sitemap_url(k), page);
        }
        spec.pages = pages;
        spec
    }
}
