//! robots.txt: fetched once per host before its first page, kept for the crawl.
//!
//! Parsing is done by `texting_robots` (checked against Google's and Moz's test suites and 54
//! million real files); this module decides what a fetch *outcome* means, following RFC 9309:
//!
//! | outcome of `GET /robots.txt` (after retries) | rules for the host |
//! | --- | --- |
//! | 2xx | the file's rules for our agent (`*` group if none names us); first 500 KiB only |
//! | 3xx | followed up to 5 hops (through the same per-host politeness), then as 4xx |
//! | 4xx (but 429) | no rules: everything allowed |
//! | 429, 5xx, or no response | **everything disallowed** for this crawl (RFC 9309 §2.3.1.4: an unreachable robots.txt means complete disallow); the cut is counted as `robots_unavailable` |
//!
//! `Crawl-delay` raises the host's delay, capped by `max_crawl_delay`. `Sitemap:` lines are
//! returned for the sitemap reader.

use std::rc::Rc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use texting_robots::Robot;
use url::Url;

use super::state::{is_redirect, redirect_target};
use crate::normalize::Canon;
use crate::problem::Cut;
use crate::transport::{FetchError, Response};

/// How many redirects a robots.txt fetch follows.
pub(crate) const MAX_ROBOTS_REDIRECTS: u32 = 5;

/// The most of a robots.txt body that is parsed (RFC 9309 asks for at least 500 KiB).
const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// The robots rules of one host.
#[derive(Debug, Default)]
pub(crate) enum Rules {
    /// Not known yet (fetch pending or robots.txt turned off).
    #[default]
    Unknown,
    /// No robots.txt (4xx) or it has no rules for us.
    AllowAll,
    /// robots.txt could not be had (5xx, 429, no response).
    Unavailable,
    /// Parsed rules.
    Parsed(Box<Robot>),
}

impl Rules {
    /// `Ok(())` when `url` may be fetched, else why not.
    pub fn check(&self, url: &Url) -> Result<(), Cut> {
        match self {
            Rules::Unknown | Rules::AllowAll => Ok(()),
            Rules::Unavailable => Err(Cut::RobotsUnavailable),
            Rules::Parsed(robot) => {
                if robot.allowed(url.as_str()) {
                    Ok(())
                } else {
                    Err(Cut::Robots)
                }
            }
        }
    }
}

/// A host's robots outcome: its rules and its (uncapped) crawl delay.
#[derive(Debug, Default)]
pub(crate) struct HostRules {
    /// What may be fetched.
    pub rules: Rules,
    /// `Crawl-delay`, if the file set one.
    pub delay: Option<Duration>,
}

/// Which robots.txt fetches are under way and which hosts wait for them.
///
/// A *chain* is one robots.txt fetch and the redirects it follows. Hosts share a chain when their
/// robots.txt URLs meet (`http://h/robots.txt` redirecting to `https://h/robots.txt`, which is
/// also the robots.txt of host `https://h`), so no robots.txt URL is ever fetched twice.
#[derive(Debug, Default)]
pub(crate) struct Book {
    chains: Vec<Chain>,
    /// Robots URL id (in the URL table) to the chain that fetches it.
    chain_of: FxHashMap<u32, usize>,
    /// Rules by host id, once known.
    by_host: Vec<Option<Rc<HostRules>>>,
    /// Hosts whose robots.txt was asked for, by host id.
    started: Vec<bool>,
}

#[derive(Debug, Default)]
struct Chain {
    /// Hosts waiting for this chain's outcome.
    hosts: Vec<u32>,
    /// The outcome, once known.
    outcome: Option<Rc<HostRules>>,
    /// The chain this one was redirected into (its hosts went there, and so do later ones):
    /// it never gets an outcome of its own.
    joined: Option<usize>,
}

/// What the engine must do after asking the [`Book`].
#[derive(Debug)]
pub(crate) enum RobotsStep {
    /// Fetch the URL for this chain.
    Fetch(usize),
    /// Nothing: another chain will deliver.
    Wait,
    /// The outcome is known for these hosts.
    Known(Vec<u32>, Rc<HostRules>),
}

impl Book {
    /// The rules of `host`, if known.
    pub fn rules(&self, host: u32) -> Option<&HostRules> {
        self.by_host.get(host as usize)?.as_deref()
    }

    /// `true` when URL id `id` is (being) fetched as a robots.txt.
    pub fn claimed(&self, id: u32) -> bool {
        self.chain_of.contains_key(&id)
    }

    /// `true` once [`start`](Self::start) was called for `host`.
    pub fn started(&self, host: u32) -> bool {
        self.started.get(host as usize).copied().unwrap_or(false)
    }

    /// `host` needs rules; its robots.txt has URL id `id`.
    pub fn start(&mut self, host: u32, id: u32) -> RobotsStep {
        let i = host as usize;
        if self.started.len() <= i {
            self.started.resize(i + 1, false);
        }
        self.started[i] = true;
        match self.chain_of.get(&id) {
            Some(&c) => self.join(c, vec![host]),
            None => {
                self.chains.push(Chain {
                    hosts: vec![host],
                    outcome: None,
                    joined: None,
                });
                let c = self.chains.len() - 1;
                self.chain_of.insert(id, c);
                RobotsStep::Fetch(c)
            }
        }
    }

    /// Chain `chain`'s fetch was redirected to URL id `id`.
    pub fn redirect(&mut self, chain: usize, id: u32) -> RobotsStep {
        match self.chain_of.get(&id).map(|&c| self.last(c)) {
            Some(other) if other != chain => {
                let hosts = std::mem::take(&mut self.chains[chain].hosts);
                self.chains[chain].joined = Some(other);
                self.join(other, hosts)
            }
            // A redirect back into its own chain: a loop; decided as "no robots.txt".
            Some(_) => self.finish(chain, HostRules::default_allow()),
            None => {
                self.chain_of.insert(id, chain);
                RobotsStep::Fetch(chain)
            }
        }
    }

    /// Chain `chain` ended with `outcome`.
    pub fn finish(&mut self, chain: usize, outcome: HostRules) -> RobotsStep {
        let outcome = Rc::new(outcome);
        self.chains[chain].outcome = Some(outcome.clone());
        let hosts = std::mem::take(&mut self.chains[chain].hosts);
        for &h in &hosts {
            self.set(h, outcome.clone());
        }
        RobotsStep::Known(hosts, outcome)
    }

    /// The chain that decides for `chain`: itself, or the one it was redirected into, and so on.
    fn last(&self, mut chain: usize) -> usize {
        while let Some(next) = self.chains[chain].joined {
            chain = next;
        }
        chain
    }

    fn join(&mut self, chain: usize, hosts: Vec<u32>) -> RobotsStep {
        let chain = self.last(chain);
        match self.chains[chain].outcome.clone() {
            Some(outcome) => {
                for &h in &hosts {
                    self.set(h, outcome.clone());
                }
                RobotsStep::Known(hosts, outcome)
            }
            None => {
                self.chains[chain].hosts.extend(hosts);
                RobotsStep::Wait
            }
        }
    }

    fn set(&mut self, host: u32, outcome: Rc<HostRules>) {
        let i = host as usize;
        if self.by_host.len() <= i {
            self.by_host.resize(i + 1, None);
        }
        self.by_host[i] = Some(outcome);
    }
}

impl HostRules {
    fn default_allow() -> Self {
        HostRules {
            rules: Rules::AllowAll,
            delay: None,
        }
    }
}

/// What a robots.txt fetch outcome means.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The host's rules, its crawl delay (uncapped) and its sitemap URLs.
    Rules(Rules, Option<Duration>, Vec<String>),
    /// Fetch this robots.txt location next.
    Redirect(Url),
    /// A redirect not followed (too many hops, or no usable `Location`): all is allowed. Why,
    /// and where it pointed, if anywhere.
    DeadEnd(String, Option<Url>),
}

/// The robots.txt URL of `url`'s origin.
pub(crate) fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    // Credentials never go to robots.txt.
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    robots
}

/// Interprets the final outcome of fetching `url` (a robots.txt) after `hops` redirects.
pub(crate) fn verdict(
    url: &Url,
    outcome: &Result<Response, FetchError>,
    hops: u32,
    agent: &str,
) -> Verdict {
    let response = match outcome {
        Err(_) => return Verdict::Rules(Rules::Unavailable, None, Vec::new()),
        Ok(r) => r,
    };
    match response.status {
        200..=299 => {
            let body = &response.body[..response.body.len().min(MAX_ROBOTS_BYTES)];
            match Robot::new(agent, &empty_disallows_as_noops(body)) {
                Ok(robot) => {
                    let delay = robot
                        .delay
                        .filter(|d| d.is_finite() && *d > 0.0)
                        .map(|d| Duration::from_secs_f64(f64::from(d).min(1e6)));
                    let sitemaps = robot.sitemaps.clone();
                    Verdict::Rules(Rules::Parsed(Box::new(robot)), delay, sitemaps)
                }
                Err(_) => Verdict::Rules(Rules::AllowAll, None, Vec::new()),
            }
        }
        status if is_redirect(status) => match redirect_target(url, response, Canon::default()) {
            Ok(target) if hops < MAX_ROBOTS_REDIRECTS => Verdict::Redirect(target),
            Ok(target) => Verdict::DeadEnd(
                format!("redirect not followed after {hops} hops"),
                Some(target),
            ),
            Err(why) => Verdict::DeadEnd(why.to_string(), None),
        },
        429 | 500..=599 => Verdict::Rules(Rules::Unavailable, None, Vec::new()),
        _ => Verdict::Rules(Rules::AllowAll, None, Vec::new()),
    }
}

/// `body` with every empty `Disallow:` line made an empty `Allow:`.
///
/// RFC 9309 gives an empty `Disallow` no effect (it matches no path), so `Disallow: /` next to
/// it still forbids everything. `texting_robots` reads it as `Allow: /` instead, which wins its
/// tie with `Disallow: /` and allowed a whole site that said no (found by the fuzzer). An empty
/// `Allow:` matches every path with the lowest priority, which is no rule at all, and is still
/// a rule line, so the groups stay as they were. The keywords and separators are the ones that
/// parser accepts (misspellings included).
fn empty_disallows_as_noops(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const KEYWORDS: [&[u8]; 6] = [
        b"disallow",
        b"dissallow",
        b"dissalow",
        b"disalow",
        b"diasllow",
        b"disallaw",
    ];
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let is_empty_disallow = |line: &[u8]| {
        let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
        let line = &line[start..];
        KEYWORDS.iter().any(|k| {
            if line.len() < k.len() || !line[..k.len()].eq_ignore_ascii_case(k) {
                return false;
            }
            let rest = &line[k.len()..];
            let spaces = rest
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let value = match rest[spaces..].first() {
                Some(b':') => &rest[spaces + 1..],
                _ if spaces > 0 => &rest[spaces..],
                _ => return false,
            };
            let value = value.split(|&b| b == b'#').next().unwrap_or_default();
            value.iter().all(|b| b.is_ascii_whitespace())
        })
    };
    // Lines end at `\n`, `\r` or `\r\n`, as the parser reads them.
    let lines = || body.split_inclusive(|&b| b == b'\n' || b == b'\r');
    fn content(line: &[u8]) -> &[u8] {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        line.strip_suffix(b"\r").unwrap_or(line)
    }
    if !lines().any(|line| is_empty_disallow(content(line))) {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    for line in lines() {
        let text = content(line);
        if is_empty_disallow(text) {
            out.extend_from_slice(b"Allow:");
            out.extend_from_slice(&line[text.len()..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The product token of a User-Agent (`crawler` of `crawler/0.1 (+url)`), which robots.txt
/// groups are matched against.
pub(crate) fn agent_token(user_agent: &str) -> &str {
    user_agent
        .split(['/', ' '])
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or("*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::FetchErrorKind;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn rules_for(outcome: Result<Response, FetchError>) -> Rules {
        match verdict(&u("http://h/robots.txt"), &outcome, 0, "crawler") {
            Verdict::Rules(rules, _, _) => rules,
            Verdict::Redirect(t) => panic!("unexpected redirect to {t}"),
            Verdict::DeadEnd(why, _) => panic!("unexpected dead end: {why}"),
        }
    }

    fn txt(body: &str) -> Result<Response, FetchError> {
        Ok(Response::new(200).with_body(body.to_string()))
    }

    #[test]
    fn status_table() {
        let page = u("http://h/a");
        assert!(rules_for(Ok(Response::new(404))).check(&page).is_ok());
        assert!(rules_for(Ok(Response::new(403))).check(&page).is_ok());
        assert_eq!(
            rules_for(Ok(Response::new(503))).check(&page),
            Err(Cut::RobotsUnavailable)
        );
        assert_eq!(
            rules_for(Ok(Response::new(429))).check(&page),
            Err(Cut::RobotsUnavailable)
        );
        let failed = Err(FetchError::new(FetchErrorKind::Connect, "refused"));
        assert_eq!(rules_for(failed).check(&page), Err(Cut::RobotsUnavailable));
    }

    #[test]
    fn groups_wildcards_and_queries() {
        let rules = rules_for(txt(
            "User-agent: other\nDisallow: /\n\nUser-agent: crawler\nDisallow: /private\n\
             Disallow: /*.pdf$\nDisallow: /*?session=\nAllow: /private/ok\nCrawl-delay: 2\n\
             Sitemap: http://h/sitemap.xml\n",
        ));
        let check = |p: &str| rules.check(&u(&format!("http://h{p}")));
        assert!(check("/public").is_ok());
        assert_eq!(check("/private/x"), Err(Cut::Robots));
        assert!(check("/private/ok/y").is_ok());
        assert_eq!(check("/doc.pdf"), Err(Cut::Robots));
        assert!(check("/doc.pdf?x=1").is_ok());
        assert_eq!(check("/list?session=1"), Err(Cut::Robots));
        match verdict(
            &u("http://h/robots.txt"),
            &txt("Crawl-delay: 2\nSitemap: http://h/s.xml"),
            0,
            "x",
        ) {
            Verdict::Rules(_, delay, sitemaps) => {
                assert_eq!(delay, Some(Duration::from_secs(2)));
                assert_eq!(sitemaps, ["http://h/s.xml"]);
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn redirects_are_followed_five_times() {
        let moved = Ok(Response::new(301).with_header("location", "https://h/robots.txt"));
        let here = u("http://h/robots.txt");
        assert!(
            matches!(verdict(&here, &moved, 4, "c"), Verdict::Redirect(t) if t.scheme() == "https")
        );
        assert!(matches!(
            verdict(&here, &moved, 5, "c"),
            Verdict::DeadEnd(why, Some(t)) if why == "redirect not followed after 5 hops" && t.scheme() == "https"
        ));
        let nowhere = Ok(Response::new(302));
        assert!(matches!(
            verdict(&here, &nowhere, 0, "c"),
            Verdict::DeadEnd(why, None) if why == "redirect without location"
        ));
    }

    #[test]
    fn urls_and_tokens() {
        assert_eq!(
            robots_url(&u("http://a:b@h:81/x/y?q#f")).as_str(),
            "http://h:81/robots.txt"
        );
        assert_eq!(agent_token("crawler/0.1 (+https://x)"), "crawler");
        assert_eq!(agent_token("Mozilla/5.0"), "Mozilla");
        assert_eq!(agent_token(""), "*");
    }
}

#[cfg(test)]
mod book_tests {
    use super::*;

    #[test]
    fn hosts_whose_robots_urls_meet_share_one_fetch() {
        let mut b = Book::default();
        // Host 0's robots.txt (url id 10) redirects to url id 11, host 1's robots.txt.
        let RobotsStep::Fetch(c0) = b.start(0, 10) else {
            panic!()
        };
        assert!(matches!(b.redirect(c0, 11), RobotsStep::Fetch(c) if c == c0));
        assert!(matches!(b.start(1, 11), RobotsStep::Wait));
        let RobotsStep::Known(hosts, _) = b.finish(c0, HostRules::default_allow()) else {
            panic!()
        };
        assert_eq!(hosts, [0, 1]);
        assert!(b.rules(1).is_some());
        // A third host meeting the finished chain gets its outcome at once.
        assert!(matches!(b.start(2, 10), RobotsStep::Known(h, _) if h == [2]));
        assert!(b.claimed(10) && b.claimed(11) && !b.claimed(12));
    }

    #[test]
    fn a_redirect_into_a_running_chain_waits_for_it() {
        let mut b = Book::default();
        let RobotsStep::Fetch(a) = b.start(0, 1) else {
            panic!()
        };
        let RobotsStep::Fetch(c) = b.start(1, 2) else {
            panic!()
        };
        assert!(matches!(b.redirect(a, 2), RobotsStep::Wait));
        let RobotsStep::Known(hosts, _) = b.finish(c, HostRules::default_allow()) else {
            panic!()
        };
        assert_eq!(hosts, [1, 0]);
        // A loop back into its own chain ends it.
        let RobotsStep::Fetch(d) = b.start(3, 5) else {
            panic!()
        };
        assert!(matches!(b.redirect(d, 5), RobotsStep::Known(h, _) if h == [3]));
    }

    /// An empty `Disallow` has no effect (RFC 9309): it neither lifts a `Disallow: /` beside it
    /// nor splits the groups; alone, it still allows everything.
    #[test]
    fn an_empty_disallow_is_no_rule() {
        let allowed = |body: &str, path: &str| {
            let robot = Robot::new("crawler", &empty_disallows_as_noops(body.as_bytes())).unwrap();
            robot.allowed(&format!("http://h{path}"))
        };
        let both = "User-agent: *\nDisallow: /\nDisallow:\n";
        assert!(!allowed(both, "/a"));
        assert!(!allowed(
            "User-agent: *\ndisallow  # nothing\nDisallow: /\n",
            "/a"
        ));
        assert!(!allowed(
            "User-agent: *\r\nDisallow :\r\nDisallow: /\r\n",
            "/a"
        ));
        assert!(allowed("User-agent: *\nDisallow:\n", "/a"));
        let groups = "User-agent: crawler\nDisallow:\n\nUser-agent: *\nDisallow: /\n";
        assert!(allowed(groups, "/a"), "our own group still stands apart");
        let longer = "User-agent: *\nDisallow: /a\nDisallow:\n";
        assert!(!allowed(longer, "/a/b"));
        assert!(allowed(longer, "/b"));
        // Only empty ones change; other lines stay byte for byte.
        let kept = "User-agent: *\nDisallow: /a\nDisallowed:\n";
        assert!(matches!(
            empty_disallows_as_noops(kept.as_bytes()),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    /// A host whose robots.txt redirects to a URL of a chain that was itself redirected into a
    /// third chain waits for that third chain, not forever on the middle one (found by the
    /// fuzzer: `a.test` -> `sub.a.test` -> `other.test`, each robots.txt asked for in turn,
    /// left `a.test`'s pages queued when the crawl ended).
    #[test]
    fn a_redirect_into_a_joined_chain_waits_for_the_chain_it_joined() {
        let mut b = Book::default();
        let (other, sub, a) = (10, 11, 12); // robots.txt URL ids
        let RobotsStep::Fetch(c_other) = b.start(0, other) else {
            panic!()
        };
        let RobotsStep::Fetch(c_sub) = b.start(1, sub) else {
            panic!()
        };
        let RobotsStep::Fetch(c_a) = b.start(2, a) else {
            panic!()
        };
        assert!(matches!(b.redirect(c_sub, other), RobotsStep::Wait));
        assert!(matches!(b.redirect(c_a, sub), RobotsStep::Wait));
        let step = b.finish(c_other, HostRules::default_allow());
        assert!(matches!(step, RobotsStep::Known(h, _) if h == [0, 1, 2]));
        // Once decided, a late joiner through the middle URL learns the outcome at once.
        assert!(matches!(b.start(3, sub), RobotsStep::Known(h, _) if h == [3]));
        // A redirect back into the chain it joined is a loop.
        let RobotsStep::Fetch(c_x) = b.start(4, 20) else {
            panic!()
        };
        let RobotsStep::Fetch(c_y) = b.start(5, 21) else {
            panic!()
        };
        assert!(matches!(b.redirect(c_y, 20), RobotsStep::Wait));
        assert!(matches!(b.redirect(c_x, 21), RobotsStep::Known(h, _) if h == [4, 5]));
    }
}
