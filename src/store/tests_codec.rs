//! The binary form of a completion ([`super::codec`]): every shape round-trips, lent and owned
//! completions encode alike, and damaged bytes are errors.

use super::codec::{ERRORS, VERSION, decode};
use super::{Kept, KeptRef};
use crate::engine::FetchKind;
use crate::links::{Link, LinkKind, Links, Robots};
use crate::report::Record;
use crate::transport::{FetchError, FetchErrorKind, Response};

/// Completions of every shape: each field set, and each left out.
fn samples() -> Vec<Kept> {
    let full = Record {
        url: "http://h/p".into(),
        status: Some(301),
        location: Some("http://h/q\u{e9}".into()),
        error: Some("links: cut".into()),
        tries: 3,
        content_type: Some("text/html".into()),
        size: Some(u64::MAX),
        links: Some(u32::MAX),
        new_links: Some(0),
        depth: 70_000,
        truncated: true,
        noindex: true,
    };
    let bare = Record::failure("http://h/f", 1, 0, "x");
    let found = Links {
        base: Some("/b/".into()),
        links: vec![
            Link {
                url: "/a\"\n".into(),
                kind: LinkKind::Anchor,
                nofollow: true,
            },
            Link {
                url: "x.css".into(),
                kind: LinkKind::Stylesheet,
                nofollow: false,
            },
        ],
        robots: Robots {
            noindex: true,
            nofollow: false,
        },
    };
    let page = Ok(Response::new(301)
        .with_header("Content-Type", "text/html")
        .with_header("x-other", "dropped")
        .with_header("location", "/q")
        .with_body("<a href=/a>"));
    let robots = Ok(Response::new(200).with_body("User-agent: *\nDisallow: /x\n"));
    let failed = Err(FetchError::new(FetchErrorKind::Tls, "bad \u{e9}"));
    let mut all = [
        KeptRef::new(
            &full,
            FetchKind::Redirect,
            &page,
            Some((&found, Some("cut"))),
        ),
        KeptRef::new(
            &full,
            FetchKind::Page,
            &page,
            Some((&Links::default(), None)),
        ),
        KeptRef::new(&bare, FetchKind::Page, &page, None),
        KeptRef::new(&bare, FetchKind::Robots, &robots, None),
        KeptRef::new(&bare, FetchKind::Sitemap, &failed, None),
    ]
    .iter()
    .map(KeptRef::to_kept)
    .collect::<Vec<_>>();
    for kind in ERRORS {
        all.push(Kept::failed(
            bare.clone(),
            FetchKind::Page,
            FetchError::new(kind, ""),
        ));
    }
    all
}

fn encoded(kept: &Kept) -> Vec<u8> {
    let mut out = Vec::new();
    kept.encode(&mut out);
    out
}

#[test]
fn every_shape_round_trips() {
    for kept in samples() {
        let bytes = encoded(&kept);
        assert_eq!(decode(&kept.record.url, &bytes), Ok(kept));
    }
}

/// A lent completion (the engine's links, written straight from the extractor's list; the
/// response's whole header list) encodes as the completion it stands for: links of every
/// kind and flag, none, a failure, header fields the engine does not read.
#[test]
fn lent_and_owned_encode_alike() {
    let record = Record::response("http://h/r", 200, 2, 1);
    let answer = Ok(Response::new(200)
        .with_header("retry-after", "5")
        .with_header("x-other", "dropped")
        .with_header("Content-Type", "text/html")
        .with_body("User-agent: *"));
    let failed = Err(FetchError::new(FetchErrorKind::Timeout, "slow"));
    let none = Links::default();
    let kinds = [LinkKind::Anchor, LinkKind::Stylesheet, LinkKind::Xml];
    let found = Links {
        base: Some("/b/".into()),
        links: (0..6)
            .map(|i| Link {
                url: format!("/p{i}\u{e9}\n"),
                kind: kinds[i % kinds.len()],
                nofollow: i % 2 == 0,
            })
            .collect(),
        robots: Robots {
            nofollow: false,
            noindex: true,
        },
    };
    let cases = [
        (FetchKind::Robots, &answer, None),
        (FetchKind::Page, &answer, Some((&none, None))),
        (FetchKind::Page, &answer, Some((&found, Some("cut")))),
        (FetchKind::Page, &failed, None),
    ];
    for (fetch, outcome, links) in cases {
        let lent = KeptRef::new(&record, fetch, outcome, links);
        let mut bytes = Vec::new();
        lent.encode(&mut bytes);
        let owned = lent.to_kept();
        assert_eq!(bytes, encoded(&owned), "{fetch:?} {owned:?}");
        assert_eq!(decode("http://h/r", &bytes), Ok(owned));
    }
}

/// Bytes that do not read are an error, never a panic: every cut, every flipped bit.
#[test]
fn damaged_bytes_are_errors() {
    for kept in samples() {
        let bytes = encoded(&kept);
        for n in 0..bytes.len() {
            assert!(decode("u", &bytes[..n]).is_err(), "{kept:?} cut at {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode("u", &longer).is_err());
        for i in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            let _ = decode("u", &flipped);
        }
    }
    let e = decode("u", &[VERSION + 1]).unwrap_err();
    assert!(e.contains("another version"), "{e}");
    let e = decode(
        "u",
        &[
            VERSION, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1,
        ],
    );
    assert!(e.unwrap_err().contains("too long"));
}
