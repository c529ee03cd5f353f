//! The fast extractor against the `select` reference: every fixture under `fixtures/html/`, and
//! random HTML from [`super::testgen`].
//!
//! Two comparisons, both against a DOM that html5ever and `select` build independently of the
//! code under test: the links (what the engine uses), and the whole element skeleton — every
//! element's namespace, name and depth in tree order. The second is much stricter: most
//! structural mistakes (a formatting element reconstructed in the wrong order, a node foster
//! parented to the wrong place) only rarely change the links, but always change the skeleton.

use proptest::prelude::*;
use select::document::Document;
use select::node::Data;

use super::{Links, extract, extract_dom, fast, testgen};

fn reference(body: &[u8]) -> Links {
    extract_dom(&String::from_utf8_lossy(body))
}

/// `select`'s element tree in the format of [`fast::skeleton`].
fn select_skeleton(body: &[u8]) -> Vec<String> {
    let doc = Document::from(&*String::from_utf8_lossy(body));
    doc.nodes
        .iter()
        .filter_map(|raw| {
            let Data::Element(name, _) = &raw.data else {
                return None;
            };
            let mut depth = 0;
            let mut parent = raw.parent;
            while let Some(p) = parent {
                depth += 1;
                parent = doc.nodes[p].parent;
            }
            let ns = match &*name.ns {
                "http://www.w3.org/1999/xhtml" => "html",
                "http://www.w3.org/2000/svg" => "svg",
                "http://www.w3.org/1998/Math/MathML" => "math",
                other => other,
            };
            Some(format!("{depth} {ns}:{}", name.local.to_ascii_lowercase()))
        })
        .collect()
}

/// Asserts both comparisons, naming the input on failure.
fn assert_same(body: &[u8]) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(body);
    prop_assert_eq!(
        fast::skeleton(body),
        select_skeleton(body),
        "body {:?}",
        shown
    );
    prop_assert_eq!(extract(body), reference(body), "body {:?}", shown);
    Ok(())
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
fn every_fixture_matches_the_reference() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 20,
        "expected the fixture set under fixtures/html"
    );
    for (path, body) in fixtures {
        if let Err(e) = assert_same(&body) {
            panic!("{}: {e}", path.display());
        }
    }
}

/// Inputs that each exercise one tree-construction path where links or elements move, get
/// cloned or disappear. (The expected values are whatever `select` says.)
const TRICKY: &[&str] = &[
    // Adoption agency: bookmark placement, then reconstruction order.
    "<b><i><div>x</b></div>y",
    // Eight rounds of the adoption agency leave the last clone in place.
    "<a href=1><i><div><div><div><div><div><div><div><div><div>x</a></div></div></div></div></div></div></div></div></div>y",
    "<a href=1><b><div>x</a>y</div>z",
    "<b><a href=1><div>x</b>y</a>z",
    "<a href=1><div><a href=2><div><a href=3>x</div>y",
    // Noah's Ark: a fourth identical formatting element evicts the first.
    "<p><a href=s><div><a href=s><div><a href=s><div><a href=s></div></div></div></p>x",
    "<b><b><b><b><p>x</b>y",
    // Foster parenting, table text, select in table.
    "<table><tr><td><a href=1></a></td></tr><a href=2>x</table>",
    "<table><a href=1>x<tr><td>y</table>z",
    "<table><select><a href=1><tr><td><a href=2></table>",
    "<!DOCTYPE html><p><a href=1><table><tr><td>x</table>y",
    "<p><a href=1><table><tr><td>x</table>y",
    // Frameset drops the body.
    "<a href=1></a><frameset><frame></frameset>",
    // Raw text ends only at the appropriate end tag; `<!--<script>` double-escapes.
    "<title></titlex><a href=1></title><a href=2>",
    "<script><!--<script></script><a href=1>--></script><a href=2>",
    // A select in a table reopens the cell after a template closes.
    "<table><tr><td><select><template></template><td><a href=1>",
    // `<font>` leaves SVG only with color, face or size.
    "<svg><font face=x><a href=1></font><font><a href=2>",
    // Raw text and foreign content.
    "<title><a href=1></title><script><a href=2></script><svg><title><a href=3></title><a href=4>",
    "<math><mi><a href=1></mi><annotation-xml encoding=TEXT/HTML><a href=2></annotation-xml></math>",
    "<svg><foreignObject><p><a href=1></foreignObject><a xlink:href=2 href=3></svg>",
    // Templates keep their contents out of the document.
    "<template><a href=1><template><a href=2></template></template><a href=3>",
    // Newlines after <pre>, parse errors in between, and a BOM after a script.
    "<p><a href=1></p><pre>\n",
    "<p><a href=1></p><pre>&#10",
    "<p><a href=1></p><pre></>\n",
    "<p><a href=1></p><script></script>\u{feff}",
    // Link kinds: in foreign content by local name, in raw text not at all, cloned whole.
    "<svg><link rel=next xlink:href=1><script src=2 xlink:href=3></script><img src=4></svg>",
    "<noscript><img src=1></noscript><iframe src=2><img src=3></iframe><noframes><link href=4 rel=next></noframes>",
    "<p><a href=1 rel=nofollow><b>x</p>y</a>",
    "<table><img src=1 srcset='2 1x, 3'><meta http-equiv=refresh content='0;url=4'><tr><td><link rel=prev href=5></table>",
    "<frameset><frame src=1><noframes><a href=2></noframes></frameset><frame src=3>",
    "<select><img src=1><script src=2></script><meta name=robots content=none></select>",
    "<math><mi><img src=1 srcset=2></mi><annotation-xml encoding=text/html><iframe src=3></iframe></annotation-xml></math>",
    // A lone CR right after a character reference vanishes (pushback meets newline handling).
    "<a href=\"&amp;\rx\"><a href=\"&amp\rx\"><a href=\"&#65;\rx\"><a href=\"&zz\rx\">",
];

#[test]
fn tricky_inputs_match_the_reference() {
    for html in TRICKY {
        if let Err(e) = assert_same(html.as_bytes()) {
            panic!("{e}");
        }
    }
}

#[test]
fn fixtures_have_links() {
    // Guards against a fixture set where both sides trivially agree on nothing.
    let mut total = 0;
    let mut kinds = std::collections::BTreeSet::new();
    let (mut nofollow, mut noindex) = (false, false);
    for (_, body) in fixtures() {
        let links = extract(&body);
        total += links.links.len();
        kinds.extend(links.links.iter().map(|l| format!("{:?}", l.kind)));
        nofollow |= links.links.iter().any(|l| l.nofollow) && links.robots.nofollow;
        noindex |= links.robots.noindex;
    }
    assert!(total > 200, "only {total} links in all fixtures");
    assert_eq!(kinds.len(), 7, "kinds found in the fixtures: {kinds:?}");
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
    let mut kinds = std::collections::BTreeMap::new();
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
    assert_eq!(kinds.len(), 7, "kinds generated: {kinds:?}");
    assert!(
        kinds.values().all(|&n| n >= 20),
        "kinds generated: {kinds:?}"
    );
    assert!(
        nofollow >= 20 && robots >= 20,
        "nofollow {nofollow}, robots {robots}"
    );
}

/// One [`Extractor`](super::Extractor) reused for `bodies` in turn gives the reference's links
/// for each: nothing of one document leaks into the next.
fn assert_reuse_is_invisible(bodies: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let mut extractor = super::Extractor::default();
    // `extract_into` as the engine calls it: one `Links` whose strings serve page after page.
    let mut into = super::Extractor::default();
    let mut links = Links::default();
    for body in bodies {
        let shown = String::from_utf8_lossy(body);
        let expected = reference(body);
        prop_assert_eq!(&extractor.extract(body), &expected, "body {:?}", shown);
        into.extract_into(body, &mut links);
        prop_assert_eq!(&links, &expected, "extract_into, body {:?}", shown);
    }
    Ok(())
}

#[test]
fn a_reused_extractor_matches_the_reference_on_every_fixture() {
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
    fn same_as_reference_on_nested_markup(body in testgen::nested()) {
        assert_same(&body)?;
    }

    #[test]
    fn same_as_reference_on_tag_soup(body in testgen::soup()) {
        assert_same(&body)?;
    }

    #[test]
    fn same_as_reference_on_misnested_formatting(body in testgen::formatting()) {
        assert_same(&body)?;
    }

    #[test]
    fn same_as_reference_on_tag_syntax(body in testgen::tag_syntax()) {
        assert_same(&body)?;
    }

    #[test]
    fn same_as_reference_on_bytes(body in testgen::bytes()) {
        assert_same(&body)?;
    }

    #[test]
    fn same_as_reference_with_a_reused_extractor(
        bodies in prop::collection::vec(prop_oneof![testgen::soup(), testgen::formatting()], 1..6)
    ) {
        assert_reuse_is_invisible(&bodies)?;
    }
}
