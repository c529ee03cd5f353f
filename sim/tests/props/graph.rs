//! Proptest strategies for random site graphs: the library's [`Case`], drawn so that it shrinks
//! well.
//!
//! A graph is a list of nodes; every edge (link or redirect) names its target with a
//! `Target::Any(u64)` (a 64-bit fraction of the node count). Shrinking therefore removes nodes
//! first (the list shrinks) and the edges stay valid, then simplifies what is left: targets
//! shrink towards node 0, kinds towards the first alternative, options towards the smallest.
//!
//! Half the cases also get the converging-redirects gadget (`fuzz::add_gadget`).

use crawler_sim::fuzz::{
    Case, Edge, Form, GARBAGE, HOSTS, Location, Node, NodeKind, SCRIPT_OUTCOMES, Target, add_gadget,
};
use crawler_site::{Faults, Scripted};
use proptest::prelude::*;

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

fn link() -> impl Strategy<Value = Edge> {
    prop_oneof![
        8 => (any::<u64>(), form()).prop_map(|(i, f)| Edge::Node(Target::Any(i), f)),
        1 => (0..GARBAGE.len()).prop_map(Edge::Garbage),
    ]
}

fn location() -> impl Strategy<Value = Location> {
    prop_oneof![
        3 => (any::<u64>(), form()).prop_map(|(i, f)| Location::Node(Target::Any(i), f)),
        3 => form().prop_map(Location::Next),
        1 => Just(Location::Missing),
        1 => (0..GARBAGE.len()).prop_map(Location::Garbage),
        1 => Just(Location::Itself),
    ]
}

fn kind() -> impl Strategy<Value = NodeKind> {
    let base = prop_oneof![
        3 => (0..HOSTS.len()).prop_map(Ok),
        1 => (0..GARBAGE.len()).prop_map(Err),
    ];
    prop_oneof![
        4 => (prop::collection::vec(link(), 0..7), prop::option::weighted(0.15, base))
            .prop_map(|(links, base)| NodeKind::Html { links, base }),
        4 => (prop::sample::select(vec![301u16, 302, 303, 307, 308]), location())
            .prop_map(|(status, location)| NodeKind::Redirect { status, location }),
        1 => prop::sample::select(vec![404u16, 410, 500, 503]).prop_map(NodeKind::Status),
        1 => Just(NodeKind::Text),
        1 => Just(NodeKind::Unlisted),
    ]
}

fn outcome() -> impl Strategy<Value = Scripted> {
    prop::sample::select(SCRIPT_OUTCOMES.to_vec())
}

pub fn faults() -> impl Strategy<Value = Faults> {
    let rate = || prop::sample::select(vec![0.0, 0.0, 0.125]);
    (
        (rate(), rate(), rate(), rate(), rate(), rate()),
        prop::sample::select(vec![100.0, 5000.0]),
        prop::option::of(0u32..3),
    )
        .prop_map(
            |((drop, reset, error_5xx, error_429, truncate, slow), slow_ms, retry_after)| {
                let mut f = Faults::default();
                f.drop = drop;
                f.reset = reset;
                f.error_5xx = error_5xx;
                f.error_429 = error_429;
                f.truncate = truncate;
                f.slow = slow;
                f.slow_ms = slow_ms;
                f.retry_after = retry_after;
                f
            },
        )
}

fn node() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(vec![0usize, 0, 0, 0, 0, 1, 2, 3, 4]),
        prop::bool::weighted(0.1),
        kind(),
        prop::option::weighted(0.15, prop::collection::vec(outcome(), 1..4)),
        prop::option::weighted(0.1, faults()),
    )
        .prop_map(|(host, excluded, kind, script, faults)| {
            let mut node = Node::new(kind);
            node.host = host;
            node.excluded = excluded;
            node.script = script.unwrap_or_default();
            node.faults = faults;
            node
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
        prop::collection::vec(any::<u64>().prop_map(Target::Any), 0..2),
        prop::option::weighted(0.15, faults()),
        (
            prop::sample::select(vec![0u32, 1, 1, 2, 2, 3, 4]),
            1u32..4,
            1usize..7,
            1u64..4,
        ),
        (
            any::<bool>(),
            prop::bool::weighted(0.2),
            max_depth,
            any::<bool>(),
        ),
        prop::option::weighted(0.5, (0usize..4, 0usize..4, 0usize..3)),
        any::<u64>(),
    )
        .prop_map(
            |(
                nodes,
                roots,
                global,
                (redirect, tries, tasks, timeout),
                (lenient, exclude, depth, robots),
                gadget,
                seed,
            )| {
                let mut case = Case::new(nodes);
                case.roots = roots;
                case.network.faults = global.unwrap_or_default();
                case.max_redirect = redirect;
                case.max_tries = tries;
                case.max_tasks = tasks;
                case.timeout_ms = timeout * 1000;
                case.lenient = lenient;
                case.exclude = exclude;
                case.max_depth = depth;
                case.robots = robots;
                case.seed = seed;
                if let Some((before, pages, after)) = gadget {
                    add_gadget(&mut case, before, pages, after);
                }
                case
            },
        )
}
