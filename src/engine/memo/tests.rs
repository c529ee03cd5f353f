//! Unit tests of the memo: href classes, foreign schemes, hits that skip parsing, and the memo
//! held to the slow path ([`normalize::resolve_with`]) on random bases and hrefs.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Ids by URL, as the URL table gives them; counts the URLs it was asked to intern.
#[derive(Default)]
struct TestIds {
    ids: BTreeMap<String, u32>,
    interned: usize,
}

impl TestIds {
    fn known(&self, key: &str) -> Option<u32> {
        self.ids.get(key).copied()
    }
}

impl Ids for TestIds {
    fn intern(&mut self, url: &Url) -> u32 {
        self.interned += 1;
        let next = self.ids.len() as u32;
        *self.ids.entry(url.as_str().to_string()).or_insert(next)
    }
}

/// What the engine does with a link: its shortcut key looked up first, then the memo.
fn resolve(
    memo: &mut Memo,
    page: BaseContexts,
    base: &Url,
    href: &str,
    canon: Canon,
    ids: &mut TestIds,
) -> Option<(u32, Option<Url>)> {
    let mut key = String::new();
    let simple = Memo::shortcut_key(page, base, href, &mut key).then_some(key.as_str());
    if let Some(id) = simple.and_then(|key| ids.known(key)) {
        return Some((id, None));
    }
    memo.resolve(page, base, href, simple, canon, ids)
}

/// Resolves `links` (base, href) in order through `memo`, checking each against the slow
/// path.
fn check(memo: &mut Memo, links: &[(Url, String)], canon: Canon) -> Result<(), TestCaseError> {
    let mut ids = TestIds::default();
    for (base, href) in links {
        let page = memo.page(base);
        let got = resolve(memo, page, base, href, canon, &mut ids);
        let expected = normalize::resolve_with(base, href, canon);
        match (got, expected) {
            (None, None) => {}
            (Some((id, url)), Some(expected)) => {
                prop_assert_eq!(
                    Some(id),
                    ids.known(expected.as_str()),
                    "{:?} on {}: expected {}",
                    href,
                    base,
                    expected
                );
                if let Some(url) = url {
                    prop_assert_eq!(url, expected);
                }
            }
            (got, expected) => {
                prop_assert!(false, "{href:?} on {base}: {got:?} vs {expected:?}");
            }
        }
    }
    Ok(())
}

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn foreign_schemes() {
    let base = u("http://h/d/a.html");
    let page = Memo::default().page(&base);
    let mut key = String::new();
    for href in [
        "mailto:a@b",
        "javascript:void(0)",
        "tel:+1",
        "JavaScript:x",
        "a+b.c-d:x",
        "ftp://h/d/x",
    ] {
        assert!(foreign_scheme(href), "{href:?}");
        // Never simple either, so the engine's key lookup cannot skip this check.
        assert!(!Memo::shortcut_key(page, &base, href, &mut key), "{href:?}");
    }
    for href in [
        "http://h/",
        "HTTPS:x",
        "http:x",
        " mailto:a",
        "java script:x",
        "1a:b",
        "/a:b",
        "a",
    ] {
        assert!(!foreign_scheme(href), "{href:?}");
    }
}

#[test]
fn classes() {
    let cases = [
        ("http://h/x", Class::Global),
        ("https://h", Class::Global),
        ("HTTP://h/x", Class::Other),
        ("http:x", Class::Other),
        ("http:?x", Class::Other),
        ("mailto:a@b", Class::Other),
        ("/a:b", Class::Origin),
        ("//h/x", Class::Origin),
        ("\\x", Class::Origin),
        ("a/b:c", Class::Directory),
        ("../x?y#z", Class::Directory),
        ("?q", Class::Other),
        ("#f", Class::Other),
        ("", Class::Other),
        (" x", Class::Other),
        ("x ", Class::Other),
        ("x\t?", Class::Other),
    ];
    for (href, expected) in cases {
        assert_eq!(class(href), expected, "{href:?}");
    }
}

#[test]
fn hits_skip_parsing_and_interning() {
    let mut memo = Memo::default();
    let mut ids = TestIds::default();
    let canon = Canon::default();
    let a = u("http://h/d/a.html?x");
    let b = u("http://h/e/b.html");
    let page = memo.page(&a);
    let first = resolve(&mut memo, page, &a, "/d/c.html?x", canon, &mut ids);
    assert_eq!(first, Some((0, Some(u("http://h/d/c.html?x")))));
    assert_eq!(ids.interned, 1);
    let page = memo.page(&b);
    let second = resolve(&mut memo, page, &b, "/d/c.html?x", canon, &mut ids);
    assert_eq!(second, Some((0, None)));
    assert_eq!(ids.interned, 1);
    // Another origin is another context.
    let other = u("http://h:8080/d/a.html");
    let page = memo.page(&other);
    let third = resolve(&mut memo, page, &other, "/d/c.html?x", canon, &mut ids);
    assert_eq!(third, Some((1, Some(u("http://h:8080/d/c.html?x")))));
    assert_eq!(memo.len(), 2);
    // Simple hrefs to known URLs need no memo.
    let page = memo.page(&a);
    let relative = resolve(&mut memo, page, &a, "c.html", canon, &mut ids);
    assert_eq!(relative, Some((2, Some(u("http://h/d/c.html")))));
    let again = resolve(&mut memo, page, &a, "../d/c.html", canon, &mut ids);
    assert_eq!(again, Some((2, None)));
    assert_eq!(memo.len(), 2);
    // Path-relative hrefs and hrefs with a scheme are not memoised.
    assert_eq!(
        resolve(&mut memo, page, &a, "c?y", canon, &mut ids)
            .unwrap()
            .0,
        3
    );
    assert_eq!(
        resolve(&mut memo, page, &a, "ftp://x/", canon, &mut ids),
        None
    );
    assert_eq!(memo.len(), 2);
    // Unusable links are remembered too.
    assert_eq!(
        resolve(&mut memo, page, &a, "http://[", canon, &mut ids),
        None
    );
    assert_eq!(memo.len(), 3);
    let interned = ids.interned;
    assert_eq!(
        resolve(&mut memo, page, &a, "http://[", canon, &mut ids),
        None
    );
    assert_eq!(
        resolve(&mut memo, page, &a, "c?y", canon, &mut ids)
            .unwrap()
            .0,
        3
    );
    assert_eq!(ids.interned, interned + 1, "c?y is parsed again");
}

#[test]
fn starting_over_leaves_results_unchanged() {
    let mut memo = Memo::default();
    let base = u("http://h/");
    let mut links = Vec::new();
    for i in 0..MAX_ENTRIES + 10 {
        links.push((base.clone(), format!("/p?{}", i % (MAX_ENTRIES + 5))));
    }
    check(&mut memo, &links, Canon::default()).unwrap();
    assert!(memo.len() < 10, "the memo started over");
    assert_eq!(memo.generation, 1);
}

/// A base URL's text up to its last `/`, and a last segment (with query and fragment).
fn base() -> impl Strategy<Value = (String, &'static str)> {
    let scheme = prop::sample::select(vec!["http", "https", "ftp", "file", "data"]);
    let auth = prop::sample::select(vec![
        "h", "H", "u@h", "u:p@h", "h:80", "h:443", "h:8080", "i", "[::1]",
    ]);
    let path = prop::collection::vec(
        prop::sample::select(vec!["a", "b", "..", ".", "", "%41", "x;y", "%zz", "C:"]),
        0..4,
    );
    (scheme, auth, path, file()).prop_map(|(s, a, p, f)| {
        let mut text = format!("{s}://{a}/");
        for seg in p {
            text.push_str(seg);
            text.push('/');
        }
        (text, f)
    })
}

fn file() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "f", "g.html", "?q", "?", "#x", "f?q=1#y", "f?q=2"])
}

fn href() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "http://",
        "https://",
        "HTTP://",
        "http:",
        "https:",
        "mailto:",
        "//",
        "/",
        "\\",
        "?",
        "#",
        ":",
        ".",
        "..",
        "./",
        "../",
        "a",
        "B",
        "h",
        "%",
        "%41",
        "%2f",
        " ",
        "\t",
        "\n",
        "é",
        "x=1&x=1",
        "&",
        "=",
        "h:81",
        "u@",
        "javascript:",
    ]);
    prop::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The memo gives what the slow path gives, for every href on every base, in any order,
    /// whether it hits or not.
    #[test]
    fn agrees_with_the_slow_path(
        links in prop::collection::vec((base(), href()), 1..40),
        repeat in prop::collection::vec((0usize..40, file(), 0usize..40), 0..80),
        sort in any::<bool>(),
    ) {
        // Replays earlier hrefs on bases that share a directory with an earlier base but not
        // its last segment, so that hits happen across bases.
        let mut all = Vec::new();
        for ((dir, file), href) in &links {
            all.extend(Url::parse(&format!("{dir}{file}")).ok().map(|u| (u, href.clone())));
        }
        for (i, file, j) in repeat {
            let dir = &links[i % links.len()].0.0;
            let href = &links[j % links.len()].1;
            all.extend(Url::parse(&format!("{dir}{file}")).ok().map(|u| (u, href.clone())));
        }
        let mut memo = Memo::default();
        check(&mut memo, &all, Canon::sorting_query(sort))?;
    }
}
