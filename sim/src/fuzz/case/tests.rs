//! The case model: spellings, targets, the site file and options of a case.

use super::*;

#[test]
fn spellings_and_targets() {
    let mut case = Case::new(vec![Node::new(NodeKind::Unlisted); 4]);
    case.nodes[2].host = 1;
    case.nodes[3].excluded = true;
    assert_eq!(case.url(2), "http://www.a.test/n2");
    assert_eq!(case.url(3), "http://a.test/x3");
    let spelled: Vec<String> = Form::ALL.iter().map(|&f| case.spell(2, f)).collect();
    assert_eq!(
        spelled,
        [
            "http://www.a.test/n2",
            "/n2",
            "n2",
            "./n2",
            "../n2",
            "http://www.a.test/n2#frag",
            "HTTP://WWW.A.TEST/n2",
            "http://www.a.test:80/n2",
            "//www.a.test/n2",
            "http://www.a.test/n2"
        ]
    );
    assert_eq!(case.index(&Target::Any(0)), 0);
    assert_eq!(case.index(&Target::Any(u64::MAX)), 3);
    assert_eq!(case.index(&Target::Any(1 << 63)), 2);
    assert_eq!(case.index(&Target::Node(1)), 1);
}

#[test]
fn the_site_and_config_of_a_case() {
    let mut case = Case::new(vec![
        Node::new(NodeKind::Html {
            links: vec![Edge::Node(Target::Node(1), Form::Path), Edge::Garbage(0)],
            base: None,
        }),
        Node::new(NodeKind::Redirect {
            status: 302,
            location: Location::Next(Form::Absolute),
        }),
        Node::new(NodeKind::Unlisted),
    ]);
    case.delay_64ths = 1;
    case.timeout_ms = 1250;
    let site = case.site();
    assert_eq!(site.roots, ["http://a.test/n0"]);
    assert_eq!(site.unreachable, ["down.a.test"]);
    assert_eq!(site.pages.len(), 2, "unlisted nodes are left out");
    let root = &site.pages["http://a.test/n0"];
    assert_eq!(
        root.links.as_deref(),
        Some(&["/n1".into(), "http://[".into()][..])
    );
    let redirect = &site.pages["http://a.test/n1"];
    assert_eq!(redirect.location.as_deref(), Some("http://a.test/n2"));
    let config = case.config();
    assert_eq!(config.delay(), Duration::from_micros(15_625));
    assert_eq!(config.timeout(), Duration::from_millis(1250));
    assert!(!config.robots());
    let budget = case.budget(&config);
    assert_eq!(budget.subsec_nanos(), 0);
    assert!(budget > case.stall_budget(&config));
}
