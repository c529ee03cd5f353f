//! URL normalisation: whatever text a root or link holds, its canonical form is a fixed point
//! (normalising it again, or resolving it against any base, changes nothing), has no fragment,
//! and is `http(s)` with a host.
#![no_main]

use crawler::normalize::{Canon, parse_root_with, resolve_with};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Url::parse("http://base.test/dir/page?q=1").unwrap();
    for sort in [false, true] {
        let canon = Canon::sorting_query(sort);
        let as_root = parse_root_with(text, canon).ok();
        let as_link = resolve_with(&base, text, canon);
        for once in as_root.into_iter().chain(as_link) {
            assert!(matches!(once.scheme(), "http" | "https"), "{once}");
            assert!(once.host_str().is_some_and(|h| !h.is_empty()), "{once}");
            assert!(once.fragment().is_none(), "{once}");
            let twice = parse_root_with(once.as_str(), canon)
                .unwrap_or_else(|e| panic!("{text:?} -> {once} does not parse again: {e}"));
            assert_eq!(once, twice, "not a fixed point: {text:?}");
            let resolved = resolve_with(&base, once.as_str(), canon).expect("resolves");
            assert_eq!(once, resolved, "resolving changed it: {text:?}");
        }
    }
});
