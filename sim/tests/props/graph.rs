//! Random site graphs for the property tests, and how they become site files.
//!
//! A graph is a list of nodes; every edge (link or redirect) names its target with a
//! `prop::sample::Index`, resolved modulo the node count. Shrinking therefore removes nodes first
//! (the list shrinks) and the edges stay valid, then simplifies what is left.
//!
//! Half the cases also get a *converging redirects* gadget (appended nodes, so the oracle needs
//! no special case): an entry page links to a redirect chain and to a chain of pages, both ending
//! at a redirect `X` whose own chain leads to a final page. Whether the final page is fetched
//! must not depend on which path reaches `X` first; random graphs rarely make the worse path
//! arrive first, the gadget makes it common.

use std::collections::BTreeMap;

use crawler::site::{Faults, Outcome, PageSpec, SiteSpec};
use proptest::prelude::*;
use proptest::sample::Index;

/// The hosts a node can live on. `www.a.test` is in strict scope of `a.test` (www toggled),
/// `sub.a.test` only in lenient scope, `other.test` in neither, and `down.a.test` refuses every
/// connection.
pub const HOSTS: [&str; 5] = [
    "a.test",
    "www.a.test",
    "sub.a.test",
    "other.test",
    "down.a.test",
];
pub const UNREACHABLE: &str = "down.a.test";

/// Hrefs and `Location`s that are not a plain URL of a node.
pub const GARBAGE: [&str; 7] = [
    "http://[",
    "mailto:someone@a.test",
    "javascript:void(0)",
    "",
    "#top",
    "ftp://a.test/n0",
    "http://",
];

/// The exclude pattern of cases with `exclude` set; excluded nodes have paths starting `/x`.
pub const EXCLUDE: &str = "/x";

/// How an edge spells its target's URL.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    Absolute,
    /// The path only: resolves to the target only from the target's own host.
    Path,
    /// Relative to the document (`n3`, `./n3`, `../n3`: all paths are one segment deep).
    Relative(u8),
    Fragment,
    Upper,
    DefaultPort,
    ProtocolRelative,
}

/// The node an edge points at.
#[derive(Debug, Clone)]
pub enum Target {
    /// Any node: resolved modulo the node count.
    Any(Index),
    /// This very node (gadget edges).
    Node(usize),
}

#[derive(Debug, Clone)]
pub enum Link {
    Node(Target, Form),
    Garbage(usize),
}

#[derive(Debug, Clone)]
pub enum Location {
    Node(Target, Form),
    /// The next node (wrapping): consecutive redirects make chains.
    Next(Form),
    Missing,
    Garbage(usize),
    /// Points at the redirect itself.
    Itself,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// An HTML page with links and maybe a `<base href>` (a host index, or garbage).
    Html {
        links: Vec<Link>,
        base: Option<Result<usize, usize>>,
    },
    Redirect {
        status: u16,
        location: Location,
    },
    /// A raw body with this status.
    Status(u16),
    /// A 200 `text/plain` body that looks like HTML (its link must not be followed).
    Text,
    /// Not in the site file at all: 404.
    Unlisted,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub host: usize,
    /// Its path starts with `/x` (matched by [`EXCLUDE`]).
    pub excluded: bool,
    pub kind: Kind,
    pub script: Vec<Outcome>,
    pub faults: Option<Faults>,
}

/// One generated case: a graph, crawl options and a seed.
#[derive(Debug, Clone)]
pub struct Case {
    pub nodes: Vec<Node>,
    /// Extra roots besides node 0.
    pub roots: Vec<Target>,
    pub global_faults: Faults,
    pub max_redirect: u32,
    pub max_tries: u32,
    pub max_tasks: usize,
    pub timeout_secs: u64,
    pub lenient: bool,
    pub exclude: bool,
    pub max_depth: Option<u32>,
    pub seed: u64,
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        4 => Just(Form::Absolute),
        2 => Just(Form::Path),
        2 => (0u8..3).prop_map(Form::Relative),
        1 => Just(Form::Fragment),
        1 => Just(Form::Upper),
        1 => Just(Form::DefaultPort),
        1 => Just(Form::ProtocolRelative),
    ]
}

fn link() -> impl Strategy<Value = Link> {
    prop_oneof![
        8 => (any::<Index>(), form()).prop_map(|(i, f)| Link::Node(Target::Any(i), f)),
        1 => (0..GARBAGE.len()).prop_map(Link::Garbage),
    ]
}

fn location() -> impl Strategy<Value = Location> {
    prop_oneof![
        3 => (any::<Index>(), form()).prop_map(|(i, f)| Location::Node(Target::Any(i), f)),
        3 => form().prop_map(Location::Next),
        1 => Just(Location::Missing),
        1 => (0..GARBAGE.len()).prop_map(Location::Garbage),
        1 => Just(Location::Itself),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    let base = prop_oneof![
        3 => (0..HOSTS.len()).prop_map(Ok),
        1 => (0..GARBAGE.len()).prop_map(Err),
    ];
    prop_oneof![
        4 => (prop::collection::vec(link(), 0..7), prop::option::weighted(0.15, base))
            .prop_map(|(links, base)| Kind::Html { links, base }),
        4 => (prop::sample::select(vec![301u16, 302, 303, 307, 308]), location())
            .prop_map(|(status, location)| Kind::Redirect { status, location }),
        1 => prop::sample::select(vec![404u16, 410, 500, 503]).prop_map(Kind::Status),
        1 => Just(Kind::Text),
        1 => Just(Kind::Unlisted),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop::sample::select(vec![
        Outcome::Ok,
        Outcome::Ok,
        Outcome::Status(500),
        Outcome::Status(503),
        Outcome::Status(404),
        Outcome::Reset,
        Outcome::Drop,
        Outcome::Refused,
    ])
}

pub fn faults() -> impl Strategy<Value = Faults> {
    let rate = || prop::sample::select(vec![0.0, 0.0, 0.25]);
    (
        rate(),
        rate(),
        rate(),
        rate(),
        prop::sample::select(vec![100.0, 5000.0]),
    )
        .prop_map(|(drop, reset, error_5xx, slow, slow_ms)| {
            let mut f = Faults::default();
            f.drop = drop;
            f.reset = reset;
            f.error_5xx = error_5xx;
            f.slow = slow;
            f.slow_ms = slow_ms;
            f
        })
}

fn node() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(vec![0usize, 0, 0, 0, 0, 1, 2, 3, 4]),
        prop::bool::weighted(0.1),
        kind(),
        prop::option::weighted(0.15, prop::collection::vec(outcome(), 1..4)),
        prop::option::weighted(0.1, faults()),
    )
        .prop_map(|(host, excluded, kind, script, faults)| Node {
            host,
            excluded,
            kind,
            script: script.unwrap_or_default(),
            faults,
        })
}

/// Cases with up to `max_nodes` nodes; `depth` adds a random `max_depth`.
pub fn case(max_nodes: usize, depth: bool) -> impl Strategy<Value = Case> {
    let max_depth = if depth {
        (0u32..4).prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop::collection::vec(node(), 1..=max_nodes),
        prop::collection::vec(any::<Index>().prop_map(Target::Any), 0..2),
        prop::option::weighted(0.15, faults()),
        (
            prop::sample::select(vec![0u32, 1, 1, 2, 2, 3, 4]),
            1u32..4,
            1usize..7,
            1u64..4,
        ),
        (any::<bool>(), prop::bool::weighted(0.2), max_depth),
        prop::option::weighted(0.5, (0usize..4, 0usize..4, 0usize..3)),
        any::<u64>(),
    )
        .prop_map(
            |(
                nodes,
                roots,
                global,
                (redirect, tries, tasks, timeout),
                (lenient, exclude, depth),
                gadget,
                seed,
            )| {
                let mut case = Case {
                    nodes,
                    roots,
                    global_faults: global.unwrap_or_default(),
                    max_redirect: redirect,
                    max_tries: tries,
                    max_tasks: tasks,
                    timeout_secs: timeout,
                    lenient,
                    exclude,
                    max_depth: depth,
                    seed,
                };
                if let Some((before, pages, after)) = gadget {
                    case.add_gadget(before, pages, after);
                }
                case
            },
        )
}

fn plain(kind: Kind) -> Node {
    Node {
        host: 0,
        excluded: false,
        kind,
        script: Vec::new(),
        faults: None,
    }
}

fn redirect_to(k: usize) -> Kind {
    Kind::Redirect {
        status: 301,
        location: Location::Node(Target::Node(k), Form::Absolute),
    }
}

fn links_to(targets: &[usize]) -> Kind {
    Kind::Html {
        links: targets
            .iter()
            .map(|&k| Link::Node(Target::Node(k), Form::Absolute))
            .collect(),
        base: None,
    }
}

impl Case {
    /// Appends the converging-redirects gadget (see the module docs): an entry root linking to
    /// `before` redirects and to `pages` pages, both ending at redirect `X`, then `after` more
    /// redirects to a final page.
    fn add_gadget(&mut self, before: usize, pages: usize, after: usize) {
        let entry = self.nodes.len();
        let first_redirect = entry + 1;
        let first_page = first_redirect + before;
        let x = first_page + pages;
        let end = x + 1 + after;
        let start_of = |first: usize, n: usize| if n == 0 { x } else { first };
        self.nodes.push(plain(links_to(&[
            start_of(first_redirect, before),
            start_of(first_page, pages),
        ])));
        for k in first_redirect..first_page {
            self.nodes.push(plain(redirect_to(k + 1)));
        }
        for k in first_page..x {
            self.nodes.push(plain(links_to(&[k + 1])));
        }
        for k in x..end {
            self.nodes.push(plain(redirect_to(k + 1)));
        }
        self.nodes.push(plain(links_to(&[])));
        self.roots.push(Target::Node(entry));
    }

    /// Node `i`'s normalised URL.
    pub fn url(&self, i: usize) -> String {
        let node = &self.nodes[i];
        let x = if node.excluded { "x" } else { "n" };
        format!("http://{}/{x}{i}", HOSTS[node.host])
    }

    fn path(&self, i: usize) -> String {
        let x = if self.nodes[i].excluded { "x" } else { "n" };
        format!("/{x}{i}")
    }

    /// The href or `Location` text that spells node `i` in `form`.
    pub fn spell(&self, i: usize, form: Form) -> String {
        let host = HOSTS[self.nodes[i].host];
        let path = self.path(i);
        match form {
            Form::Absolute => format!("http://{host}{path}"),
            Form::Relative(0) => path[1..].to_string(),
            Form::Relative(1) => format!(".{path}"),
            Form::Relative(_) => format!("..{path}"),
            Form::Path => path,
            Form::Fragment => format!("http://{host}{path}#frag"),
            Form::Upper => format!("HTTP://{}{path}", host.to_ascii_uppercase()),
            Form::DefaultPort => format!("http://{host}:80{path}"),
            Form::ProtocolRelative => format!("//{host}{path}"),
        }
    }

    pub fn index(&self, target: &Target) -> usize {
        match target {
            Target::Any(i) => i.index(self.nodes.len()),
            Target::Node(k) => *k,
        }
    }

    /// The href of a link.
    pub fn href(&self, link: &Link) -> String {
        match link {
            Link::Node(i, form) => self.spell(self.index(i), *form),
            Link::Garbage(g) => GARBAGE[*g].to_string(),
        }
    }

    /// The `Location` of redirect node `i`, if it has one.
    pub fn location(&self, i: usize, location: &Location) -> Option<String> {
        match location {
            Location::Node(j, form) => Some(self.spell(self.index(j), *form)),
            Location::Next(form) => Some(self.spell((i + 1) % self.nodes.len(), *form)),
            Location::Missing => None,
            Location::Garbage(g) => Some(GARBAGE[*g].to_string()),
            Location::Itself => Some(self.url(i)),
        }
    }

    /// The `<base href>` of an HTML node.
    pub fn base(base: &Option<Result<usize, usize>>) -> Option<String> {
        base.map(|b| match b {
            Ok(host) => format!("http://{}/", HOSTS[host]),
            Err(g) => GARBAGE[g].to_string(),
        })
    }

    /// The root URLs: node 0, then the extra ones.
    pub fn roots(&self) -> Vec<String> {
        let mut roots = vec![self.url(0)];
        for r in &self.roots {
            let url = self.url(self.index(r));
            if !roots.contains(&url) {
                roots.push(url);
            }
        }
        roots
    }

    /// The site file of this case.
    pub fn site(&self) -> SiteSpec {
        let mut spec = SiteSpec::default();
        spec.roots = self.roots();
        spec.unreachable = vec![UNREACHABLE.to_string()];
        spec.faults = self.global_faults;
        let mut pages = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let mut page = PageSpec::default();
            match &node.kind {
                Kind::Html { links, base } => {
                    page.links = Some(links.iter().map(|l| self.href(l)).collect());
                    page.base = Case::base(base);
                }
                Kind::Redirect { status, location } => {
                    page.redirect = Some(*status);
                    page.location = self.location(i, location);
                }
                Kind::Status(status) => {
                    page.status = Some(*status);
                    page.body = Some(format!("status {status}"));
                }
                Kind::Text => {
                    page.body = Some(format!("<a href=\"{}\">not a link</a>", self.url(0)));
                    page.content_type = Some("text/plain".into());
                }
                Kind::Unlisted => continue,
            }
            page.script = node.script.clone();
            page.faults = node.faults;
            pages.insert(self.url(i), page);
        }
        spec.pages = pages;
        spec
    }
}
