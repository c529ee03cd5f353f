//! Shrinking a failing case to one a person can read.
//!
//! [`shrink`] is greedy and deterministic: it lists simpler variants of the case (drop a node, a
//! root, a link, a redirect, a script, a fault, an unreachable host, an option), takes the first
//! that still breaks the *same* property, and starts over, until no variant fails or the attempt
//! budget is spent. Edges name nodes by index, so every variant is a valid case; before it
//! starts, the shrinker pins every `Target::Any` and `Location::Next` to the node it resolves to,
//! which changes nothing in the site but keeps edges pointing where they did when nodes go.

use crawler_site::Faults;

use super::case::{Case, Edge, Form, Location, NodeKind, Target};
use super::check::{Failure, check};
use super::robots::RobotsFile;
use super::sitemaps::SitemapFile;

/// Simpler variants tried at most this many times in all.
pub const MAX_ATTEMPTS: usize = 4000;

/// The result of [`shrink`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Shrunk {
    /// The smallest failing case found.
    pub case: Case,
    /// How it fails (the same property as the original failure).
    pub failure: Failure,
    /// Variants tried.
    pub attempts: usize,
    /// Variants that still failed and were kept.
    pub steps: usize,
}

/// Shrinks `case`, which fails with `failure`, keeping only variants that break the same
/// property.
pub fn shrink(case: &Case, failure: &Failure) -> Shrunk {
    shrink_with(case, failure, |c| check(c).err())
}

/// [`shrink`] with another judge of failure (tests use a cheap one).
pub fn shrink_with(
    case: &Case,
    failure: &Failure,
    mut fails: impl FnMut(&Case) -> Option<Failure>,
) -> Shrunk {
    let mut current = pinned(case);
    let mut failure = failure.clone();
    if let Some(f) = fails(&current).filter(|f| f.property == failure.property) {
        failure = f;
    } else {
        current = case.clone(); // pinning is meant to change nothing; be safe if it did
    }
    let (mut attempts, mut steps) = (1, 0);
    'outer: while attempts < MAX_ATTEMPTS {
        for candidate in variants(&current) {
            if attempts >= MAX_ATTEMPTS {
                break 'outer;
            }
            attempts += 1;
            if let Some(f) = fails(&candidate).filter(|f| f.property == failure.property) {
                current = candidate;
                failure = f;
                steps += 1;
                continue 'outer;
            }
        }
        break;
    }
    Shrunk {
        case: current,
        failure,
        attempts,
        steps,
    }
}

/// `case` with every edge naming its node directly.
fn pinned(case: &Case) -> Case {
    let mut out = case.clone();
    let n = case.nodes.len();
    let pin = |t: &Target| Target::Node(case.index(t));
    out.roots = case.roots.iter().map(pin).collect();
    for sitemap in &mut out.sitemaps {
        if let SitemapFile::Urls(edges) = &mut sitemap.file {
            for edge in edges {
                if let Edge::Node(t, _) = edge {
                    *t = pin(t);
                }
            }
        }
    }
    for (i, node) in out.nodes.iter_mut().enumerate() {
        for link in node.nofollow.iter_mut().chain(&mut node.images) {
            if let Edge::Node(t, _) = link {
                *t = pin(t);
            }
        }
        match &mut node.kind {
            NodeKind::Html { links, .. } => {
                for link in links {
                    if let Edge::Node(t, _) = link {
                        *t = pin(t);
                    }
                }
            }
            NodeKind::Redirect { location, .. } => match location {
                Location::Node(t, _) => *t = pin(t),
                Location::Next(form) => {
                    *location = Location::Node(Target::Node((i + 1) % n), *form)
                }
                _ => {}
            },
            _ => {}
        }
    }
    out
}

/// Simpler variants of a pinned case, the biggest cuts first.
fn variants(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let n = case.nodes.len();
    // Whole nodes, from the last (gadgets and late nodes are least often the point).
    for k in (0..n).rev().filter(|_| n > 1) {
        out.push(without_node(case, k));
    }
    for i in 0..case.roots.len() {
        let mut c = case.clone();
        c.roots.remove(i);
        out.push(c);
    }
    for i in 0..n {
        let node = &case.nodes[i];
        if !matches!(node.kind, NodeKind::Unlisted) {
            out.push(with_node(case, i, |n| n.kind = NodeKind::Unlisted));
        }
        match &node.kind {
            NodeKind::Html { links, base } => {
                for j in 0..links.len() {
                    out.push(with_node(case, i, |n| {
                        if let NodeKind::Html { links, .. } = &mut n.kind {
                            links.remove(j);
                        }
                    }));
                }
                if base.is_some() {
                    out.push(with_node(case, i, |n| {
                        if let NodeKind::Html { base, .. } = &mut n.kind {
                            *base = None;
                        }
                    }));
                }
                for j in 0..links.len() {
                    if matches!(links[j], Edge::Node(_, f) if f != Form::Absolute) {
                        out.push(with_node(case, i, |n| {
                            if let NodeKind::Html { links, .. } = &mut n.kind
                                && let Edge::Node(_, f) = &mut links[j]
                            {
                                *f = Form::Absolute;
                            }
                        }));
                    }
                }
            }
            NodeKind::Redirect { location, .. } => {
                out.push(with_node(case, i, |n| {
                    n.kind = NodeKind::Html {
                        links: Vec::new(),
                        base: None,
                    }
                }));
                if matches!(location, Location::Node(_, f) if *f != Form::Absolute) {
                    out.push(with_node(case, i, |n| {
                        if let NodeKind::Redirect {
                            location: Location::Node(_, f),
                            ..
                        } = &mut n.kind
                        {
                            *f = Form::Absolute;
                        }
                    }));
                }
            }
            _ => {}
        }
        if !node.script.is_empty() {
            out.push(with_node(case, i, |n| n.script.clear()));
            for j in 0..node.script.len().saturating_sub(1) {
                out.push(with_node(case, i, |n| {
                    n.script.remove(j);
                }));
            }
        }
        if node.faults.is_some() {
            out.push(with_node(case, i, |n| n.faults = None));
        }
        if node.host != 0 {
            out.push(with_node(case, i, |n| n.host = 0));
        }
        if node.excluded {
            out.push(with_node(case, i, |n| n.excluded = false));
        }
    }
    out.extend(network_variants(case));
    out.extend(option_variants(case));
    out
}

fn network_variants(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let faults = case.network.faults;
    if !faults.is_none() {
        let mut c = case.clone();
        c.network.faults = Faults::default();
        out.push(c);
    }
    let fields: [fn(&mut Faults) -> &mut f64; 6] = [
        |f| &mut f.drop,
        |f| &mut f.reset,
        |f| &mut f.error_5xx,
        |f| &mut f.error_429,
        |f| &mut f.truncate,
        |f| &mut f.slow,
    ];
    for field in fields {
        let mut c = case.clone();
        let rate = field(&mut c.network.faults);
        if *rate > 0.0 {
            *rate = 0.0;
            out.push(c);
        }
    }
    if faults.retry_after.is_some() {
        let mut c = case.clone();
        c.network.faults.retry_after = None;
        out.push(c);
    }
    for i in 0..case.network.unreachable.len() {
        if case.network.unreachable[i] != super::case::DOWN {
            let mut c = case.clone();
            c.network.unreachable.remove(i);
            out.push(c);
        }
    }
    let latency = case.network.latency;
    if latency.min_ms != latency.mean_ms {
        let mut c = case.clone();
        c.network.latency = crawler_site::Latency::new(latency.min_ms, latency.min_ms);
        out.push(c);
    }
    out
}

fn option_variants(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Case)| {
        let mut c = case.clone();
        f(&mut c);
        if c != *case {
            out.push(c);
        }
    };
    push(&|c| c.lenient = false);
    push(&|c| c.exclude = false);
    push(&|c| c.max_depth = None);
    push(&|c| c.max_per_host = None);
    push(&|c| c.delay_64ths = 0);
    push(&|c| c.robots = false);
    push(&|c| c.html_bodies_only = false);
    push(&|c| c.nodes.iter_mut().for_each(|n| n.nofollow.clear()));
    push(&|c| c.nodes.iter_mut().for_each(|n| n.images.clear()));
    push(&|c| c.assets = false);
    push(&|c| c.max_tasks = 1);
    push(&|c| c.max_tries = 1);
    push(&|c| c.max_redirect = c.max_redirect.min(10).saturating_sub(1));
    push(&|c| c.crashes.clear());
    push(&|c| {
        c.crashes.pop();
    });
    push(&|c| c.sync_every = 1);
    push(&|c| c.workers = None);
    if let Some(w) = &case.workers {
        push(&|c| c.workers.as_mut().into_iter().for_each(|w| w.slow_ms = 0));
        for i in 0..w.faults.len() {
            push(&|c| {
                if let Some(w) = c.workers.as_mut() {
                    w.faults.remove(i);
                }
            });
        }
        push(&|c| {
            if let Some(w) = c.workers.as_mut() {
                w.count = 2;
                w.faults.retain(|f| f.worker < 2);
            }
        });
    }
    push(&|c| c.max_pages = None);
    push(&|c| c.max_pages_per_host = None);
    push(&|c| c.sort_query = false);
    push(&|c| c.nodes.iter_mut().for_each(|n| n.query = false));
    push(&|c| c.nodes.iter_mut().for_each(|n| n.meta_robots = None));
    push(&|c| c.robots_files.clear());
    for &host in case.robots_files.keys() {
        push(&|c| {
            c.robots_files.remove(&host);
        });
    }
    push(&|c| {
        // No sitemaps at all: nothing may name one either.
        c.sitemaps.clear();
        c.sitemap_options.clear();
        for file in c.robots_files.values_mut() {
            if let RobotsFile::Rules { sitemaps, .. } = file {
                sitemaps.clear();
            }
        }
    });
    push(&|c| c.sitemap_options.clear());
    out
}

fn with_node(case: &Case, i: usize, f: impl FnOnce(&mut super::case::Node)) -> Case {
    let mut c = case.clone();
    f(&mut c.nodes[i]);
    c
}

/// `case` without node `k`: edges to it go (a redirect to it loses its `Location`), later nodes
/// move down one.
fn without_node(case: &Case, k: usize) -> Case {
    let mut c = case.clone();
    c.nodes.remove(k);
    let shift = |j: usize| if j > k { j - 1 } else { j };
    let renumber = |t: &Target| match *t {
        Target::Node(j) if j == k => None,
        Target::Node(j) => Some(Target::Node(shift(j))),
        any => Some(any),
    };
    c.roots = c.roots.iter().filter_map(renumber).collect();
    let keep = |l: &mut Edge| match l {
        Edge::Node(t, _) => match renumber(t) {
            Some(new) => {
                *t = new;
                true
            }
            None => false,
        },
        Edge::Garbage(_) => true,
    };
    for sitemap in &mut c.sitemaps {
        if let SitemapFile::Urls(edges) = &mut sitemap.file {
            edges.retain_mut(keep);
        }
    }
    for node in &mut c.nodes {
        node.nofollow.retain_mut(keep);
        node.images.retain_mut(keep);
        match &mut node.kind {
            NodeKind::Html { links, .. } => {
                links.retain_mut(keep);
            }
            NodeKind::Redirect { location, .. } => {
                if let Location::Node(t, _) = location {
                    match renumber(t) {
                        Some(new) => *t = new,
                        None => *location = Location::Missing,
                    }
                }
            }
            _ => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::check::Property;
    use crate::fuzz::generate::generate;

    /// A judge that fails every case in which some node is a 410 page reachable... simply: that
    /// still has a node of kind `Status(410)`. The shrinker must keep exactly that node.
    #[test]
    fn shrinks_to_the_one_node_that_matters() {
        let seed = (0..500)
            .find(|&s| {
                let c = generate(s);
                c.nodes.len() > 10
                    && c.nodes
                        .iter()
                        .filter(|n| n.kind == NodeKind::Status(410))
                        .count()
                        == 1
            })
            .expect("some seed has one 410 page");
        let case = generate(seed);
        let fails = |c: &Case| {
            c.nodes
                .iter()
                .any(|n| n.kind == NodeKind::Status(410))
                .then(|| Failure {
                    property: Property::Outcome,
                    evidence: "a 410".into(),
                })
        };
        let first = fails(&case).unwrap();
        let shrunk = shrink_with(&case, &first, fails);
        assert_eq!(shrunk.case.nodes.len(), 1, "{:?}", shrunk.case);
        assert_eq!(shrunk.case.nodes[0].kind, NodeKind::Status(410));
        assert!(shrunk.case.roots.is_empty());
        assert!(shrunk.case.network.faults.is_none());
        assert_eq!(shrunk.case.max_tasks, 1);
        // Deterministic: the same input shrinks the same way.
        let again = shrink_with(&case, &first, fails);
        assert_eq!(again.case, shrunk.case);
        assert_eq!(again.attempts, shrunk.attempts);
    }

    #[test]
    fn pinning_changes_nothing_in_the_site() {
        for seed in 0..100 {
            let case = generate(seed);
            assert_eq!(pinned(&case).site(), case.site(), "seed {seed}");
        }
    }

    #[test]
    fn removing_a_node_keeps_edges_on_their_nodes() {
        let case = pinned(&generate(3));
        let k = case.nodes.len() / 2;
        let smaller = without_node(&case, k);
        assert_eq!(smaller.nodes.len(), case.nodes.len() - 1);
        for (i, node) in smaller.nodes.iter().enumerate() {
            let old = if i >= k { i + 1 } else { i };
            assert_eq!(node.host, case.nodes[old].host);
        }
    }
}
