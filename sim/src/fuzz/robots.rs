//! robots.txt files of fuzz cases, and the oracle's own reading of them.
//!
//! A case may give a host a robots.txt; a host without one answers 404 (everything allowed).
//! A [`RobotsFile`] is rules in user-agent groups (patterns with `*` and `$`, a `Crawl-delay`,
//! `Sitemap` lines), a bare status (4xx: everything allowed; 429 and 5xx: nothing, RFC 9309
//! §2.3.1.3 and §2.3.1.4), or a redirect to the robots.txt of a later host in
//! [`HOSTS`](super::HOSTS) (so every chain ends within the RFC's five hops).
//!
//! [`allows`] is the oracle's matcher, written from RFC 9309 §2.2 (not from the parser crate the
//! engine uses): a group's `User-agent` lines run on until its first rule, so a group with no
//! rules shares the next group's (the RFC's grammar lets empty lines sit between them); the
//! groups naming our product token, merged, else the `*` groups; among the rules whose pattern
//! matches the path (and query), the longest pattern wins, and `allow` wins a tie; no match
//! allows.

/// A `User-agent` line's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Agent {
    /// Our product token, spelled `Crawler` (matching is case-insensitive).
    Us,
    /// `*`.
    Star,
    /// Another crawler's token.
    Other,
}

/// One `Allow` or `Disallow` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// `Allow` (else `Disallow`).
    pub allow: bool,
    /// The path pattern; empty means the line matches nothing.
    pub pattern: String,
}

/// A group: its `User-agent` lines, then its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    /// Whom it is for (at least one).
    pub agents: Vec<Agent>,
    /// Its rules, in file order.
    pub rules: Vec<Rule>,
}

/// What a host's `/robots.txt` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RobotsFile {
    /// A 200 `text/plain` file.
    Rules {
        /// The groups, in file order.
        groups: Vec<Group>,
        /// A `Crawl-delay` in the first group, in 1/64 s.
        crawl_delay_64ths: Option<u32>,
        /// `Sitemap` lines: indices in [`Case::sitemaps`](super::Case::sitemaps).
        sitemaps: Vec<usize>,
    },
    /// This status and a short body.
    Status(u16),
    /// A redirect to the robots.txt of the host with this index in [`HOSTS`](super::HOSTS)
    /// (always a later one).
    Redirect {
        /// 301, 302, 307 or 308.
        status: u16,
        /// The target host.
        to: usize,
    },
}

impl RobotsFile {
    /// The file's text (for [`RobotsFile::Rules`]); `sitemap` spells a sitemap's URL.
    pub fn text(&self, sitemap: impl Fn(usize) -> String) -> String {
        let RobotsFile::Rules {
            groups,
            crawl_delay_64ths,
            sitemaps,
        } = self
        else {
            return String::new();
        };
        let mut out = String::new();
        // The Crawl-delay goes after the first group's rules that has some: a line between
        // `User-agent` lines would end a run of them.
        let delay_in = groups.iter().position(|g| !g.rules.is_empty());
        for (n, group) in groups.iter().enumerate() {
            for agent in &group.agents {
                let token = match agent {
                    Agent::Us => "Crawler",
                    Agent::Star => "*",
                    Agent::Other => "otherbot",
                };
                out.push_str(&format!("User-agent: {token}\n"));
            }
            for rule in &group.rules {
                let verb = if rule.allow { "Allow" } else { "Disallow" };
                out.push_str(&format!("{verb}: {}\n", rule.pattern));
            }
            if let (true, Some(d)) = (delay_in == Some(n), crawl_delay_64ths) {
                out.push_str(&format!("Crawl-delay: {}\n", f64::from(*d) / 64.0));
            }
            out.push('\n');
        }
        for &k in sitemaps {
            out.push_str(&format!("Sitemap: {}\n", sitemap(k)));
        }
        out
    }

    /// The status `/robots.txt` answers.
    pub fn status(&self) -> u16 {
        match self {
            RobotsFile::Rules { .. } => 200,
            RobotsFile::Status(status) => *status,
            RobotsFile::Redirect { status, .. } => *status,
        }
    }
}

/// Whether `groups` let our crawler fetch `path` (the path and query of a URL), by RFC 9309.
pub fn allows(groups: &[Group], path: &str) -> bool {
    // Agents of rule-less groups join the next group.
    let mut merged: Vec<(Vec<Agent>, &[Rule])> = Vec::new();
    let mut pending: Vec<Agent> = Vec::new();
    for group in groups {
        pending.extend(&group.agents);
        if !group.rules.is_empty() {
            merged.push((std::mem::take(&mut pending), &group.rules));
        }
    }
    merged.push((pending, &[]));
    let ours = |agent: Agent| move |g: &&(Vec<Agent>, &[Rule])| g.0.contains(&agent);
    let mut chosen: Vec<_> = merged.iter().filter(ours(Agent::Us)).collect();
    if chosen.is_empty() {
        chosen = merged.iter().filter(ours(Agent::Star)).collect();
    }
    let mut best: Option<(usize, bool)> = None;
    for rule in chosen.iter().flat_map(|g| g.1) {
        if rule.pattern.is_empty() || !matches(&rule.pattern, path) {
            continue;
        }
        let len = rule.pattern.len();
        let better = match best {
            None => true,
            Some((l, allow)) => len > l || (len == l && rule.allow && !allow),
        };
        if better {
            best = Some((len, rule.allow));
        }
    }
    best.is_none_or(|(_, allow)| allow)
}

/// Whether `pattern` (`*` for any run of characters, a final `$` for the end) matches the start
/// of `path`, or all of it when anchored.
pub fn matches(pattern: &str, path: &str) -> bool {
    fn from(p: &[u8], s: &[u8], anchored: bool) -> bool {
        match p.split_first() {
            None => !anchored || s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| from(rest, &s[i..], anchored)),
            Some((c, rest)) => s.first() == Some(c) && from(rest, &s[1..], anchored),
        }
    }
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    from(pattern.as_bytes(), path.as_bytes(), anchored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: bool, pattern: &str) -> Rule {
        Rule {
            allow,
            pattern: pattern.into(),
        }
    }

    #[test]
    fn patterns_match_prefixes_wildcards_and_ends() {
        assert!(matches("/n1", "/n12"));
        assert!(!matches("/n1$", "/n12"));
        assert!(matches("/n1$", "/n1"));
        assert!(matches("/*2$", "/n12"));
        assert!(matches("/*?", "/n3?a=1&b=2"));
        assert!(!matches("/*?", "/n3"));
        assert!(matches("/n*b=2", "/n3?a=1&b=2"));
        assert!(matches("/", "/anything"));
        assert!(!matches("/x", "/n1"));
    }

    #[test]
    fn the_longest_match_wins_and_allow_wins_a_tie() {
        let group = |rules| Group {
            agents: vec![Agent::Star],
            rules,
        };
        let g = [group(vec![rule(false, "/n"), rule(true, "/n1$")])];
        assert!(allows(&g, "/n1"));
        assert!(!allows(&g, "/n12"));
        assert!(allows(&g, "/x1"));
        let tie = [group(vec![rule(false, "/n1"), rule(true, "/n*")])];
        assert!(allows(&tie, "/n1"));
        let empty = [group(vec![rule(false, "")])];
        assert!(allows(&empty, "/n1"));
    }

    #[test]
    fn our_groups_merge_and_replace_the_star_group() {
        let g = [
            Group {
                agents: vec![Agent::Star],
                rules: vec![rule(false, "/")],
            },
            Group {
                agents: vec![Agent::Other, Agent::Us],
                rules: vec![rule(false, "/n1")],
            },
            Group {
                agents: vec![Agent::Us],
                rules: vec![rule(false, "/n2")],
            },
        ];
        assert!(!allows(&g, "/n1"));
        assert!(!allows(&g, "/n2"));
        assert!(allows(&g, "/n3"), "the * group does not apply to us");
        let others = [Group {
            agents: vec![Agent::Other],
            rules: vec![rule(false, "/")],
        }];
        assert!(allows(&others, "/n1"));
        // A rule-less group for us runs on into the `*` group's rules.
        let run_on = [
            Group {
                agents: vec![Agent::Us],
                rules: vec![],
            },
            Group {
                agents: vec![Agent::Star],
                rules: vec![rule(false, "/n1")],
            },
        ];
        assert!(!allows(&run_on, "/n1"));
        let trailing = [
            Group {
                agents: vec![Agent::Star],
                rules: vec![rule(false, "/")],
            },
            Group {
                agents: vec![Agent::Us],
                rules: vec![],
            },
        ];
        assert!(
            allows(&trailing, "/n1"),
            "our group, last and empty, allows all"
        );
    }

    #[test]
    fn the_text_of_a_file() {
        let file = RobotsFile::Rules {
            groups: vec![Group {
                agents: vec![Agent::Us, Agent::Star],
                rules: vec![rule(false, "/x"), rule(true, "/x1$")],
            }],
            crawl_delay_64ths: Some(16),
            sitemaps: vec![0],
        };
        let text = file.text(|k| format!("http://a.test/s{k}.xml"));
        assert_eq!(
            text,
            "User-agent: Crawler\nUser-agent: *\nDisallow: /x\nAllow: /x1$\nCrawl-delay: 0.25\n\n\
             Sitemap: http://a.test/s0.xml\n"
        );
        assert_eq!(file.status(), 200);
    }
}
