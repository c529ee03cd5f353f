use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// The links of `xml`, read at `http://h/d/feed.xml`, as (URL, kind), and the reader's error.
fn read(xml: impl AsRef<[u8]>) -> (Vec<(String, LinkKind)>, Result<(), ExtractError>) {
    let mut links = Links::default();
    let result = extract_xml_into(xml.as_ref(), &url("http://h/d/feed.xml"), &mut links);
    assert_eq!(links.base, None);
    assert!(links.links.iter().all(|l| !l.nofollow));
    let found = links.links.into_iter().map(|l| (l.url, l.kind)).collect();
    (found, result)
}

/// Asserts that `xml` reads without an error and has exactly the links `expected`, all of kind
/// [`LinkKind::Xml`].
fn check(xml: &str, expected: &[&str]) {
    let (found, result) = read(xml);
    assert_eq!(result, Ok(()), "in {xml:?}");
    let urls: Vec<_> = found.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(urls, expected, "in {xml:?}");
    assert!(found.iter().all(|(_, k)| *k == LinkKind::Xml), "{found:?}");
}

#[test]
fn rss_2_channel_and_item_links() {
    check(
        r#"<?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
          <channel>
            <title>Blog &amp; news</title>
            <link>http://h/</link>
            <atom:link href="http://h/d/feed.xml" rel="self" type="application/rss+xml"/>
            <description>escaped markup is text: &lt;link&gt;/no&lt;/link&gt;</description>
            <item>
              <title>One</title>
              <link>
                http://h/posts/1
              </link>
              <guid isPermaLink="true">http://h/posts/1</guid>
              <comments>http://h/posts/1#comments</comments>
              <enclosure url="http://h/one.mp3" length="1" type="audio/mpeg"/>
            </item>
            <item><link>/posts/2</link><guid>2</guid></item>
            <item><link></link><link/><title>no link</title></item>
          </channel>
        </rss>"#,
        &[
            "http://h/",
            "http://h/d/feed.xml",
            "http://h/posts/1",
            "/posts/2",
        ],
    );
}

#[test]
fn the_stylesheet_instruction_is_an_asset() {
    let (found, result) =
        read(r#"<?xml-stylesheet type="text/xsl" href="/feed.xsl"?><?other href="/no"?><rss/>"#);
    assert_eq!(result, Ok(()));
    assert_eq!(found, [("/feed.xsl".to_string(), LinkKind::Stylesheet)]);
    assert!(LinkKind::Stylesheet.is_asset() && !LinkKind::Xml.is_asset());
}

#[test]
fn rss_1_rdf_links() {
    check(
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                    xmlns="http://purl.org/rss/1.0/">
          <channel rdf:about="http://h/feed.rdf"><link>http://h/</link></channel>
          <item rdf:about="http://h/a"><link>http://h/a</link></item>
        </rdf:RDF>"#,
        &["http://h/", "http://h/a"],
    );
}

#[test]
fn atom_links_by_href() {
    check(
        r#"<?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom">
          <title>Example</title>
          <link href="http://h/"/>
          <link rel="self" href="/d/atom.xml"></link>
          <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
          <entry>
            <link rel="alternate" type="text/html" href="entries/1.html"/>
            <link rel="enclosure" href="/audio/1.mp3" length="1"/>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
              <p>See <a href="/in-content">this</a>.</p></div></content>
          </entry>
        </feed>"#,
        &[
            "http://h/",
            "/d/atom.xml",
            "entries/1.html",
            "/audio/1.mp3",
            "/in-content",
        ],
    );
}

#[test]
fn href_in_any_namespace_on_any_element() {
    check(
        r#"<doc xmlns:x="http://www.w3.org/1999/xhtml" xmlns:xlink="http://www.w3.org/1999/xlink"
                xmlns:href="urn:not-a-link">
          <x:a href="/x">x</x:a><ref xlink:href="/xl"/><thing HREF="/upper" src="/src"/>
          <item href="/first" href="/second"/><empty href=""/>
        </doc>"#,
        &["/x", "/xl", "/first", ""],
    );
}

#[test]
fn entities_and_cdata_are_decoded() {
    check(
        "<r><a href='/q?a=1&amp;b=2&#38;c=&#x33;&lt;'/><a href='/bare?a&b=1&amp'/>\
         <a href='/unknown&nbsp;x'/><a href='/sign&#x+41;'/><a href='/line\r\nbreak\tx'/>\
         <link>/t?a=1&amp;b=&#50;&nbsp;</link><link><![CDATA[/c?a=1&b=<2>]]></link>\
         <link>/mixed<![CDATA[&part]]>&amp;end</link><link>/text & more</link></r>",
        &[
            "/q?a=1&b=2&c=3<",
            "/bare?a&b=1&amp",
            "/unknown&nbsp;x",
            "/sign&#x+41;",
            "/line break x",
            "/t?a=1&b=2&nbsp;",
            "/c?a=1&b=<2>",
            "/mixed&part&end",
            "/text & more",
        ],
    );
    // A CDATA section is text, never markup.
    check(
        "<r><![CDATA[<a href='/no'/>]]><a href='/yes'/></r>",
        &["/yes"],
    );
    // So are comments and processing instructions.
    check("<r><!-- <a href='/no'/> --><?pi href='/no'?></r>", &[]);
}

#[test]
fn xml_base_resolves_the_links_in_its_scope() {
    check(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://other.example/blog/">
          <link href="a"/>
          <entry xml:base="2026/"><link href="b" xml:base="sub/"/><link href="c"/></entry>
          <entry><link href="d"/><link>e</link></entry>
        </feed><after href="f"/>"#,
        &[
            "http://other.example/blog/a",
            "http://other.example/blog/2026/sub/b",
            "http://other.example/blog/2026/c",
            "http://other.example/blog/d",
            "http://other.example/blog/e",
            "f",
        ],
    );
    // A relative xml:base resolves against the document's URL.
    check("<r xml:base='../x/'><a href='y'/></r>", &["http://h/x/y"]);
    // A link that does not resolve against the base is not a URL.
    check("<r xml:base='http://h/'><a href='http://[bad'/></r>", &[]);
}

#[test]
fn malformed_xml_keeps_the_links_before_the_error() {
    for (xml, kept) in [
        (
            "<r><a href='/1'/><a href=unquoted/><a href='/2'/></r>",
            &["/1"][..],
        ),
        ("<r><a href='/1'/><a href='/2", &["/1"]),
        ("<r><a href='/1'/><!-- unterminated", &["/1"]),
        ("<r><link>/1</link><link>/2", &["/1"]),
        ("<r><a href='/1'/></r><", &["/1"]),
    ] {
        let (found, result) = read(xml);
        let urls: Vec<_> = found.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(urls, kept, "in {xml:?}");
        if xml.ends_with("</link><link>/2") {
            // An element left open is not an error: the body may have been cut at the cap.
            assert_eq!(result, Ok(()), "in {xml:?}");
        } else {
            let err = result.unwrap_err();
            assert!(matches!(err, ExtractError::Xml(_)), "{err:?} in {xml:?}");
            assert!(
                err.to_string().starts_with("xml parser failed: at byte "),
                "{err}"
            );
        }
    }
    // Lenient where feeds are sloppy: mismatched and stray end tags.
    check(
        "<r><a href='/1'></b></c><a href='/2'/></r></r>",
        &["/1", "/2"],
    );
}

#[test]
fn not_xml_at_all() {
    check("", &[]);
    check("just text, <no> markup", &[]);
    check("\u{feff}<r href='/bom'/>", &["/bom"]);
    // HTML is not XML: an unquoted attribute stops the reader.
    let (found, result) = read("<a href=/x>x</a>");
    assert!(found.is_empty() && result.is_err());
    // Invalid UTF-8 becomes U+FFFD.
    let (found, result) = read(b"<r><a href='/caf\xe9'/><link>/\xff</link></r>");
    assert_eq!(result, Ok(()));
    let urls: Vec<_> = found.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(urls, ["/caf\u{fffd}", "/\u{fffd}"]);
}

#[test]
fn huge_and_deep_documents_are_one_pass() {
    // Nested elements: nothing recurses, and the links inside are all found.
    let depth = 200_000;
    let mut xml = String::with_capacity(depth * 8);
    for i in 0..depth {
        xml.push_str(if i % 1000 == 0 {
            "<e href='/d'>"
        } else {
            "<e>"
        });
    }
    xml.push_str(&"</e>".repeat(depth));
    let (found, result) = read(&xml);
    assert_eq!(result, Ok(()));
    assert_eq!(found.len(), depth / 1000);
    // Nested xml:bases: past the sixteenth, one is ignored, so resolving stays cheap.
    let levels = 200_000;
    let xml = format!("{}<a href='x'/>", "<e xml:base='s/'>".repeat(levels));
    let (found, result) = read(&xml);
    assert_eq!(result, Ok(()));
    assert_eq!(
        found,
        [(format!("http://h/d/{}x", "s/".repeat(16)), LinkKind::Xml)]
    );
    // Sibling xml:bases, each long: one whose URL would pass 4 KiB is ignored.
    let long = "l".repeat(3000);
    let xml = format!(
        "<r xml:base='/{long}/'>{}</r>",
        format!("<e xml:base='{long}/'><a href='x'/></e>").repeat(1000)
    );
    let (found, result) = read(&xml);
    assert_eq!(result, Ok(()));
    assert_eq!(found.len(), 1000);
    assert!(
        found
            .iter()
            .all(|(u, _)| *u == format!("http://h/{long}/x"))
    );
    // An RSS <link> that never closes gathers text to the end, and is not counted.
    let xml = format!("<rss><link>{}", "x".repeat(10 << 20));
    assert_eq!(read(&xml), (Vec::new(), Ok(())));
}

#[test]
fn extract_xml_into_replaces_what_was_there() {
    let mut links =
        crate::links::extract(b"<base href=/b/><a href=/a><meta name=robots content=none>");
    assert!(links.base.is_some() && links.robots.nofollow);
    extract_xml_into(b"<r href='/x'/>", &url("http://h/"), &mut links).unwrap();
    assert_eq!(links, extract_xml(b"<r href='/x'/>", &url("http://h/")));
    assert_eq!(links.base, None);
    assert!(!links.robots.nofollow);
}

#[test]
fn media_types() {
    for xml in [
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
    ] {
        assert!(is_xml(xml), "{xml}");
        assert_eq!(format_of(xml), Some(Format::Xml), "{xml}");
    }
    assert_eq!(format_of("text/html"), Some(Format::Html));
    assert_eq!(format_of("application/xhtml+xml"), Some(Format::Xhtml));
    assert!(!is_xml("text/html") && !is_xml("application/xhtml+xml"));
    for other in [
        "image/svg+xml",
        "application/soap+xml",
        "application/json",
        "text/plain",
        "",
    ] {
        assert_eq!(format_of(other), None, "{other}");
    }
}

/// The (URL, kind) pairs of an XHTML document.
fn xhtml(doc: &str) -> Vec<(String, LinkKind)> {
    let mut links = Links::default();
    extract_xhtml_into(doc.as_bytes(), &mut links).unwrap();
    links.links.into_iter().map(|l| (l.url, l.kind)).collect()
}

#[test]
fn xhtml_is_read_as_html_with_empty_raw_text_elements_closed() {
    use LinkKind::*;
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
        <html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en">
        <head><title/><script type="text/javascript" src="/a.js"/>
          <link rel="stylesheet" href="/s.css"/><style type="text/css"/>
          <base href="/b/"/><meta name="robots" content="noindex"/></head>
        <body><p>One<br/>two <a href="x?a=1&amp;b=&#50;"/></p>
          <iframe src="/f"/><textarea name="t"/><a href="/after">after</a>
          <svg xmlns="http://www.w3.org/2000/svg"><script href="/svg.js"/><a href="/in-svg"/></svg>
          <script><![CDATA[ var a = '<a href="/in-script">'; ]]></script>
        </body></html>"#;
    assert_eq!(
        xhtml(doc),
        [
            ("/a.js".to_string(), Script),
            ("/s.css".to_string(), Stylesheet),
            ("x?a=1&b=2".to_string(), Anchor),
            ("/f".to_string(), Frame),
            ("/after".to_string(), Anchor),
            ("/in-svg".to_string(), Anchor),
        ]
    );
    let mut links = Links::default();
    extract_xhtml_into(doc.as_bytes(), &mut links).unwrap();
    assert_eq!(links.base.as_deref(), Some("/b/"));
    assert!(links.robots.noindex);
    // Read as plain HTML, the empty `<title/>` would hide every link after it.
    assert_eq!(crate::links::extract(doc.as_bytes()).links, []);
    // Nothing to close: the body is read as it is, without a copy.
    let plain = "<html><head><title>t</title></head><body><a href='/a'/></body></html>";
    assert!(matches!(close_raw_text(plain.as_bytes()), Cow::Borrowed(_)));
    assert_eq!(xhtml(plain), [("/a".to_string(), Anchor)]);
    // Broken XML: the empty elements before the error are closed, the rest is read as HTML.
    assert_eq!(
        xhtml("<html><head><title/></head><body><a href=/1>1</a><!x><title/><a href=/2>"),
        [("/1".to_string(), Anchor)]
    );
}

/// XML-ish tag soup: the pieces feeds are made of, in any order, cut anywhere.
fn soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let piece = prop::sample::select(vec![
        "<rss>",
        "<link>",
        "</link>",
        "<a href='/x'/>",
        "<e xml:base='b/'>",
        "</e>",
        "<title/>",
        "<script src='/s'/>",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?xml-stylesheet href='/s'?>",
        "&amp;",
        "&#x41;",
        "&",
        "<",
        ">",
        "'",
        "\"",
        "href=",
        "/",
        "text",
        "\u{e9}",
        "\0",
        "\r\n",
    ]);
    (prop::collection::vec(piece, 0..40), any::<usize>()).prop_map(|(pieces, cut)| {
        let mut bytes = pieces.concat().into_bytes();
        bytes.truncate(cut % (bytes.len() + 1));
        bytes
    })
}

proptest::proptest! {
    #[test]
    fn any_input_is_an_outcome_not_a_panic(body in soup()) {
        let document = url("http://h/d/feed.xml");
        let mut links = Links::default();
        let xml = extract_xml_into(&body, &document, &mut links);
        proptest::prop_assert!(!matches!(xml, Err(ExtractError::Panic(_))), "{xml:?}");
        let xhtml = extract_xhtml_into(&body, &mut links);
        proptest::prop_assert!(!matches!(xhtml, Err(ExtractError::Panic(_))), "{xhtml:?}");
    }
}
