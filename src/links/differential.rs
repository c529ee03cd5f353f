//! The streaming extractor against the `select` reference: every fixture under `fixtures/html/`,
//! tricky inputs, and random HTML from [`super::testgen`].
//!
//! Where the two differ by design, the difference is a [`Rule`] (`agreement.rs`, with the
//! sentence that says why a crawler can live with it), and each rule has a test here that shows
//! it. Everywhere else they must agree: exactly where no rule's markup is present, and modulo
//! exactly the possible rules otherwise ([`check`]).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::agreement::{Rule, check};
use super::{Links, extract, extract_dom, extract_into, stream, testgen};

/// [`check`] as a property.
fn assert_agree(body: &[u8]) -> Result<(), TestCaseError> {
    check(body).map_err(TestCaseError::fail)
}

/// The anchors each extractor finds in `html`: (streaming, reference).
fn anchors(html: &str) -> (Vec<String>, Vec<String>) {
    let list = |l: Links| l.anchors().map(str::to_string).collect();
    (list(extract(html.as_bytes())), list(extract_dom(html)))
}

#[test]
fn rule_cloned_formatting_element() {
    // One `<a>` tag left open across `</p>`: the reference reconstructs it around "y".
    assert_eq!(
        anchors("<p><a href=1>x</p>y"),
        (vec!["1".into()], vec!["1".into(), "1".into()])
    );
    assert_eq!(
        Rule::possible(b"<p><a href=1>x</p>y"),
        [Rule::Cloned, Rule::Moved].into()
    );
}

#[test]
fn rule_moved_by_foster_parenting() {
    let html = "<table><tr><td><a href=1></td></tr><a href=2></table>";
    assert_eq!(
        anchors(html),
        (vec!["1".into(), "2".into()], vec!["2".into(), "1".into()])
    );
}

#[test]
fn rule_frameset_drops_body() {
    assert_eq!(
        anchors("<a href=1></a><frameset>"),
        (vec!["1".into()], vec![])
    );
    // With text in the body, the frameset is ignored instead, and both agree.
    assert_eq!(anchors("<a href=1>text</a><frameset>").1, ["1"]);
    assert_agree(b"<a href=1>text</a><frameset>").unwrap();
}

#[test]
fn rule_select_drops_tags() {
    let html = "<select><a href=1></select><a href=2>";
    assert_eq!(
        anchors(html),
        (vec!["1".into(), "2".into()], vec!["2".into()])
    );
}

#[test]
fn rule_template_closed_early() {
    let html = "<a href=1><template></a><a href=2>";
    assert_eq!(
        anchors(html),
        (vec!["1".into(), "2".into()], vec!["1".into()])
    );
}

#[test]
fn rule_reconstructed_out_of_template() {
    let html = "<template><a href=1><object></template><b>";
    assert_eq!(anchors(html), (vec![], vec!["1".into()]));
}

#[test]
fn rule_stray_frame() {
    let html = "<a href=1><frame src=2>";
    let (got, want) = (extract(html.as_bytes()), extract_dom(html));
    assert_eq!((got.links.len(), want.links.len()), (2, 1));
}

#[test]
fn rule_foreign_namespace() {
    // `</foreignObject>` is ignored here (a `<p>` is open inside it), so the second `<a>` is
    // an HTML one whose `href` is 3; lol_html takes the end tag as leaving the foreignObject,
    // reads an SVG `<a>`, and its first href-like attribute.
    let html = "<svg><foreignObject><p><a href=1></foreignObject><a xlink:href=2 href=3></svg>";
    assert_eq!(
        anchors(html),
        (vec!["1".into(), "2".into()], vec!["1".into(), "3".into()])
    );
}

#[test]
fn rule_crlf_after_equals() {
    assert_eq!(
        anchors("<a href=\r\n\"x\">"),
        (vec!["x".into()], vec!["x\"".into()])
    );
    assert_eq!(
        Rule::possible(b"<a href=\r\n\"x\">"),
        [Rule::Cloned, Rule::Moved, Rule::CrLfAfterEquals].into()
    );
}

#[test]
fn rule_cr_after_reference() {
    assert_eq!(
        anchors("<a href=\"&amp;\rx\">"),
        (vec!["&\nx".into()], vec!["&x".into()])
    );
}

#[test]
fn rule_raw_text_in_select() {
    let html = "<select><iframe src=1><p></select><a href=2>";
    assert_eq!(anchors(html), (vec![], vec!["2".into()]));
}

#[test]
fn rule_frameset_ignores_tags() {
    for html in [
        "<frameset><title><frame src=1>",
        "<frameset><template><frame src=1>",
    ] {
        let (got, want) = (extract(html.as_bytes()), extract_dom(html));
        assert_eq!((got.links.len(), want.links.len()), (0, 1), "{html}");
    }
}

#[test]
fn rule_equals_then_end() {
    assert_eq!(
        anchors("<title a=><b/><a href=1>"),
        (vec!["1".into()], vec![])
    );
    assert_eq!(anchors("<title a=\"\"><b/><a href=1>"), (vec![], vec![]));
    // And foreign content after it stops lol_html with an internal error (a debug assertion,
    // caught as a panic, in test builds).
    let mut links = Links::default();
    assert!(extract_into(b"<a href=1><title href=><svg></svg>", &mut links).is_err());
    assert_eq!(links.anchors().collect::<Vec<_>>(), ["1"]);
}

#[test]
fn noscript_nesting_deeper_than_the_limit_is_not_read() {
    // Each level of `<noscript>` text is parsed again as markup, up to the limit: a page of
    // nested `<noscript>` tags costs a bounded number of passes.
    let deep = |levels: u32| {
        let mut html = "<noscript>".repeat(levels as usize);
        html.push_str("<a href=deep>");
        html
    };
    let limit = stream::NOSCRIPT_DEPTH;
    assert_eq!(anchors(&deep(limit)).0, ["deep"]);
    assert_eq!(anchors(&deep(limit)).1, ["deep"]);
    assert_eq!(anchors(&deep(limit + 1)).0, Vec::<String>::new());
}

#[test]
fn rule_noscript_ends_early() {
    let html = "<noscript><p title=\"</noscript><a href=1>\"></noscript>";
    assert_eq!(anchors(html), (vec!["1".into()], vec![]));
    let html = "<noscript><!--<script></noscript><a href=2>";
    assert_eq!(anchors(html), (vec!["2".into()], vec![]));
}

fn fixtures() -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/html");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

#[test]
fn every_fixture_agrees_with_the_reference() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 25,
        "expected the fixture set under fixtures/html"
    );
    for (path, body) in fixtures {
        if let Err(e) = assert_agree(&body) {
            panic!("{}: {e}", path.display());
        }
    }
}

/// Inputs that each exercise one tree-construction path where links or elements move, get
/// cloned or disappear.
const TRICKY: &[&str] = &[
    // Adoption agency: bookmark placement, then reconstruction order.
    "<b><i><div>x</b></div>y",
    "<a href=1><i><div><div><div><div><div><div><div><div><div>x</a></div></div></div></div></div></div></div></div></div>y",
    "<a href=1><b><div>x</a>y</div>z",
    "<b><a href=1><div>x</b>y</a>z",
    "<a href=1><div><a href=2><div><a href=3>x</div>y",
    "<p><a href=s><div><a href=s><div><a href=s><div><a href=s></div></div></div></p>x",
    // Foster parenting, table text, select in table.
    "<table><tr><td><a href=1></a></td></tr><a href=2>x</table>",
    "<table><a href=1>x<tr><td>y</table>z",
    "<table><select><a href=1><tr><td><a href=2></table>",
    "<!DOCTYPE html><p><a href=1><table><tr><td>x</table>y",
    // Frameset drops the body.
    "<a href=1></a><frameset><frame></frameset>",
    // Raw text ends only at the appropriate end tag; `<!--<script>` double-escapes.
    "<title></titlex><a href=1></title><a href=2>",
    "<script><!--<script></script><a href=1>--></script><a href=2>",
    // `<font>` leaves SVG only with color, face or size.
    "<svg><font face=x><a href=1></font><font><a href=2>",
    // Raw text and foreign content.
    "<title><a href=1></title><script><a href=2></script><svg><title><a href=3></title><a href=4>",
    "<math><mi><a href=1></mi><annotation-xml encoding=TEXT/HTML><a href=2></annotation-xml></math>",
    "<svg><foreignObject><p><a href=1></foreignObject><a xlink:href=2 href=3></svg>",
    "<svg><style><a href=1></style><p><style><a href=2></style>",
    // Templates keep their contents out of the document.
    "<template><a href=1><template><a href=2></template></template><a href=3>",
    // Link kinds: in foreign content by local name, in raw text not at all.
    "<svg><link rel=next xlink:href=1><script src=2 xlink:href=3></script><img src=4></svg>",
    "<noscript><img src=1></noscript><iframe src=2><img src=3></iframe><noframes><link href=4 rel=next></noframes>",
    "<table><img src=1 srcset='2 1x, 3'><meta http-equiv=refresh content='0;url=4'><tr><td><link rel=prev href=5></table>",
    "<frameset><frame src=1><noframes><a href=2></noframes></frameset><frame src=3>",
    "<math><mi><img src=1 srcset=2></mi><annotation-xml encoding=text/html><iframe src=3></iframe></annotation-xml></math>",
    // A lone CR right after a character reference.
    "<a href=\"&amp;\rx\"><a href=\"&amp\rx\"><a href=\"&#65;\rx\"><a href=\"&zz\rx\">",
    // Noscript in the head and in the body, in a table, nested.
    "<head><noscript><link rel=stylesheet href=1><a href=2></noscript><body><noscript><iframe src=3>",
    "<table><noscript><a href=1></noscript><tr><td><noscript><noscript><a href=2></noscript>",
    // A stray `</svg>` before foreign content (found by the links_differential fuzz target).
    "</svg><math><annotation-xml><A XLINK:HREF=/u>upper</A><p><a href=/h>h</a>",
    // A quoted value left open in a noscript, with a `<` in it (the fuzz target again).
    "<noscript><center>see the <a href=\"t version</a>.</center>\n</noscript><a href=/x>",
    // An empty noscript leaves nothing open for an SVG element of that name after it.
    "<noscript></noscript><svg><noscript><![CDATA[<a href=/c>]]></noscript></svg>",
];

#[test]
fn realistic_noscripts_and_inline_svgs_are_compared_exactly() {
    // The rules for noscript text and foreign content are possible only where their tricky
    // markup is: these are compared link for link.
    for html in [
        "<head><noscript><img height=1 width=1 style=\"display:none\" src=\"/px?id=1&amp;ev=PageView\"/></noscript></head>",
        "<body><noscript><iframe src=\"/ns.html?id=GTM-X\" height=\"0\" width=\"0\"></iframe></noscript><a href=/a>a</a>",
        "<img class=lazy data-src=/i.jpg><noscript><img src=\"/i.jpg\" alt=\"\"></noscript>",
        "<a href=/home><svg class=icon aria-hidden=true><use xlink:href=\"#i-home\"></use></svg>Home</a>",
        "<svg width=0 height=0><symbol id=i-home viewBox=\"0 0 1 1\"><path d=\"M0 0\"/></symbol></svg><a href=/x>",
    ] {
        let rules = Rule::possible(html.as_bytes());
        assert!(
            !rules.contains(&Rule::NoscriptEndsEarly) && !rules.contains(&Rule::ForeignNamespace),
            "{html}: {rules:?}"
        );
        assert_eq!(extract(html.as_bytes()), extract_dom(html), "{html}");
    }
}

#[test]
fn tricky_inputs_agree_with_the_reference() {
    for html in TRICKY {
        if let Err(e) = assert_agree(html.as_bytes()) {
            panic!("{e}");
        }
    }
}

#[test]
fn fixtures_have_links() {
    // Guards against a fixture set where both sides trivially agree on nothing.
    let mut total = 0;
    let mut kinds = BTreeSet::new();
    let (mut nofollow, mut noindex) = (false, false);
    for (_, body) in fixtures() {
        let links = extract(&body);
        total += links.links.len();
        kinds.extend(links.links.iter().map(|l| format!("{:?}", l.kind)));
        nofollow |= links.links.iter().any(|l| l.nofollow) && links.robots.nofollow;
        noindex |= links.robots.noindex;
    }
    assert!(total > 200, "only {total} links in all fixtures");
    assert_eq!(kinds.len(), 8, "kinds found in the fixtures: {kinds:?}");
    assert!(
        nofollow && noindex,
        "no fixture with rel=nofollow and meta robots"
    );
}

/// The generators must actually exercise every link kind, `rel=nofollow` and meta robots, or
/// the properties below would agree on them vacuously.
#[test]
fn generators_produce_every_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut kinds = BTreeMap::new();
    let (mut nofollow, mut robots) = (0, 0);
    let strategies = [
        testgen::nested().boxed(),
        testgen::soup().boxed(),
        testgen::formatting().boxed(),
    ];
    for strategy in &strategies {
        for _ in 0..300 {
            let body = strategy.new_tree(&mut runner).expect("a case").current();
            let links = extract(&body);
            for l in &links.links {
                *kinds.entry(format!("{:?}", l.kind)).or_insert(0) += 1;
                nofollow += usize::from(l.nofollow);
            }
            robots += usize::from(links.robots.nofollow || links.robots.noindex);
        }
    }
    assert_eq!(kinds.len(), 8, "kinds generated: {kinds:?}");
    assert!(
        kinds.values().all(|&n| n >= 20),
        "kinds generated: {kinds:?}"
    );
    assert!(
        nofollow >= 20 && robots >= 20,
        "nofollow {nofollow}, robots {robots}"
    );
}

/// One `Links` reused for `bodies` in turn, as the engine does, gives each document's own links:
/// nothing of one document leaks into the next.
fn assert_reuse_is_invisible(bodies: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let mut links = Links::default();
    for body in bodies {
        // A page the parser gives up on (see `Rule::EqualsThenEnd`) keeps what was found
        // before: the same with a fresh list as with a reused one.
        let _ = extract_into(body, &mut links);
        prop_assert_eq!(
            &links,
            &extract(body),
            "body {:?}",
            String::from_utf8_lossy(body)
        );
    }
    Ok(())
}

#[test]
fn a_reused_links_list_is_invisible_on_every_fixture() {
    let mut bodies: Vec<Vec<u8>> = fixtures().into_iter().map(|(_, b)| b).collect();
    assert_reuse_is_invisible(&bodies).unwrap();
    bodies.reverse();
    assert_reuse_is_invisible(&bodies).unwrap();
}

/// 1000 cases per property unless `PROPTEST_CASES` says otherwise (for long runs).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn agrees_with_reference_on_nested_markup(body in testgen::nested()) {
        assert_agree(&body)?;
    }

    #[test]
    fn agrees_with_reference_on_tag_soup(body in testgen::soup()) {
        assert_agree(&body)?;
    }

    #[test]
    fn agrees_with_reference_on_misnested_formatting(body in testgen::formatting()) {
        assert_agree(&body)?;
    }

    #[test]
    fn agrees_with_reference_on_tag_syntax(body in testgen::tag_syntax()) {
        assert_agree(&body)?;
    }

    #[test]
    fn agrees_with_reference_on_bytes(body in testgen::bytes()) {
        assert_agree(&body)?;
    }

    #[test]
    fn a_reused_links_list_is_invisible(
        bodies in prop::collection::vec(prop_oneof![testgen::soup(), testgen::formatting()], 1..6)
    ) {
        assert_reuse_is_invisible(&bodies)?;
    }
}
