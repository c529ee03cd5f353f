use std::path::Path;

use super::*;
use crate::fuzz::{check, generate};

fn back(case: &Case) -> Result<Case, RegressionError> {
    Regression::of(case, "a test").case()
}

/// Reads `case` back and requires the same site file and options.
fn round_trip(case: &Case) -> Case {
    let again = back(case).unwrap_or_else(|e| panic!("seed {}: {e}", case.seed));
    assert_eq!(again.site(), case.site(), "seed {}", case.seed);
    assert_eq!(
        options_of(&again.config()),
        options_of(&case.config()),
        "seed {}",
        case.seed
    );
    assert_eq!(again.seed, case.seed);
    assert_eq!(
        (&again.crashes, again.sync_every, &again.workers),
        (&case.crashes, case.sync_every, &case.workers)
    );
    again
}

#[test]
fn generated_cases_read_back_to_the_same_site_and_options() {
    for seed in 0..3000 {
        round_trip(&generate(seed));
    }
}

#[test]
fn generated_cases_read_back_get_the_same_verdict() {
    for seed in 0..150 {
        let case = generate(seed);
        let again = round_trip(&case);
        assert_eq!(check(&again), check(&case), "seed {seed}");
    }
}

/// Redirects to the next node and to themselves come back as redirects to a node by index; a
/// trailing unlisted node nothing names is left out; every form of spelling is read.
#[test]
fn locations_forms_and_unlisted_nodes() {
    let links = Form::ALL
        .iter()
        .map(|&f| Edge::Node(Target::Node(3), f))
        .chain([
            Edge::Garbage(3),
            Edge::Node(Target::Any(1 << 60), Form::Upper),
        ])
        .collect();
    let mut case = Case::new(vec![
        Node::new(NodeKind::Html {
            links,
            base: Some(Ok(1)),
        }),
        Node::new(NodeKind::Redirect {
            status: 301,
            location: Location::Next(Form::Path),
        }),
        Node::new(NodeKind::Redirect {
            status: 308,
            location: Location::Itself,
        }),
        Node::new(NodeKind::Unlisted),
        Node::new(NodeKind::Text),
        Node::new(NodeKind::Unlisted),
    ]);
    case.nodes[3].host = 2;
    case.nodes[3].excluded = true;
    case.exclude = true;
    case.roots = vec![Target::Node(2), Target::Node(0)];
    case.seed = 99;
    let again = round_trip(&case);
    assert_eq!(again.nodes.len(), 5, "the unnamed last node is left out");
    assert_eq!((again.nodes[3].host, again.nodes[3].excluded), (2, true));
    assert_eq!(
        again.nodes[2].kind,
        NodeKind::Redirect {
            status: 308,
            location: Location::Node(Target::Node(2), Form::Absolute)
        }
    );
    assert_eq!(
        again.nodes[1].kind,
        NodeKind::Redirect {
            status: 301,
            location: Location::Node(Target::Node(2), Form::Path)
        }
    );
    assert_eq!(again.roots, [Target::Node(2)]);
}

/// A site of one root and nothing else is a case too: node 0 unlisted, no host down.
#[test]
fn a_bare_root_is_a_case() {
    let text = with_site(r#"{"roots": ["http://www.a.test/x0"]}"#);
    let case = Regression::from_json(&text).unwrap().case().unwrap();
    assert_eq!(
        case.nodes,
        [Node {
            host: 1,
            excluded: true,
            ..Node::new(NodeKind::Unlisted)
        }]
    );
    assert!(case.network.unreachable.is_empty());
    assert_eq!(case.seed, 1);
}

#[test]
fn the_file_round_trips_through_json() {
    let case = generate(40);
    let kept = Regression::of(&case, "why not");
    let text = kept.to_json();
    let read = Regression::from_json(&text).unwrap();
    assert_eq!(read, kept);
    assert_eq!(read.to_json(), text);
    assert_eq!(read.case().unwrap().site(), case.site());
}

fn error_of(text: &str) -> String {
    match Regression::from_json(text).and_then(|r| r.case()) {
        Ok(_) => panic!("{text} was read"),
        Err(e) => e.to_string(),
    }
}

fn with_site(site: &str) -> String {
    format!(r#"{{"format": 1, "why": "", "seed": 1, "args": [], "site": {site}}}"#)
}

#[test]
fn files_a_case_does_not_render_are_refused_with_a_reason() {
    let cases: &[(&str, &str)] = &[
        ("not json", "not a regression file: expected"),
        (r#"{"pages": {}}"#, "no \"format\" field"),
        (r#"{"format": "1"}"#, "\"format\" is not a number"),
        (
            r#"{"format": 2, "why": "", "seed": 1, "args": [], "site": {}, "robots": {}}"#,
            "regression format 2, but this version reads format 1 only",
        ),
        (
            r#"{"format": 1, "why": "", "seed": 1, "args": [], "site": {}, "extra": 1}"#,
            "unknown field `extra`",
        ),
        (&with_site("{}"), "site: no roots"),
        (
            &with_site(r#"{"roots": ["http://a.test/"]}"#),
            "root: \"http://a.test/\" names no node",
        ),
        (
            &with_site(r#"{"roots": ["http://a.test/n1"]}"#),
            "the first root \"http://a.test/n1\" is not n0",
        ),
        (
            &with_site(r#"{"roots": ["/n0"]}"#),
            "root \"/n0\" is not a node's URL",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/robots.txt": {}}}"#,
            ),
            "pages[\"http://a.test/robots.txt\"]: no status",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/robots.txt": {"status": 200, "body": "User-agent: googlebot\n"}}}"#,
            ),
            "user-agent \"googlebot\"",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/s1.xml": {"status": 404, "body": "status 404"}}}"#,
            ),
            "no sitemap s0, but there is an s1",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/s0.xml": {"status": 200, "body": "<urlset><url><loc>http://a.test/n1"}}}"#,
            ),
            "a <loc> without its end",
        ),
        (
            &with_site(r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {}}}"#),
            "not a page a case renders",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {"links": ["http://a.test/n07"]}}}"#,
            ),
            "\"http://a.test/n07\" names no node",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {"links": ["http://other.test/n0"]}}}"#,
            ),
            "node 0 is on two hosts, a.test and other.test",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {"links": ["x0"]}}}"#,
            ),
            "node 0 is spelled both /n0 and /x0",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {"links": ["n99999999999999999999"]}}}"#,
            ),
            "names no node",
        ),
        (
            &with_site(
                r#"{"roots": ["http://a.test/n0"], "pages": {"http://a.test/n0": {"links": [], "pad": 5}}}"#,
            ),
            "pages[\"http://a.test/n0\"] is not what a case renders",
        ),
        (
            &with_site(r#"{"roots": ["http://a.test/n0"], "unreachable": ["b.test"]}"#),
            "unknown host \"b.test\"",
        ),
        (
            &with_site(r#"{"roots": ["http://a.test/n0", "http://a.test/n0"]}"#),
            "site: roots is not what a case renders: [\"http://a.test/n0\", \"http://a.test/n0\"] read back as [\"http://a.test/n0\"]",
        ),
        (
            &with_site(r#"{"roots": ["http://a.test/n0"], "generated": {"http://a.test/t": []}}"#),
            "generated pages is not what a case renders",
        ),
    ];
    for (text, want) in cases {
        let got = error_of(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn options_a_case_does_not_have_are_refused() {
    let case = generate(3);
    let site = case.site();
    let options = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Case::from_site(&site, &args, 3).map(|_| ())
    };
    let refused = |args: &[&str], want: &str| match options(args) {
        Err(e) => assert!(e.to_string().contains(want), "{args:?}: {e}"),
        Ok(()) => panic!("{args:?} was read"),
    };
    refused(
        &["--bogus"],
        "options: error: unexpected argument '--bogus'",
    );
    refused(&["--max-tries=x"], "options: error: invalid value 'x'");
    refused(&["--max-tries=0"], "options: ");
    refused(&["http://a.test/n0"], "among the options");
    refused(&["--backoff=2"], "not options a case has");
    refused(&["--exclude=/y"], "not options a case has");
    refused(&["--delay=0.001"], "--delay is not one a case has");
    refused(&["--timeout=0.0005"], "--timeout is not one a case has");
    assert_eq!(
        options(
            &options_of(&case.config())
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        ),
        Ok(())
    );
}

#[test]
fn site_files_of_the_fixtures_are_refused_not_misread() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            Regression::from_json(&text).is_err(),
            "{}: a bare site file",
            path.display()
        );
        let Ok(site) = serde_json::from_str::<SiteSpec>(&text) else {
            continue;
        };
        assert!(
            Case::from_site(&site, &[], 0).is_err(),
            "{}: not a case's site",
            path.display()
        );
    }
}
