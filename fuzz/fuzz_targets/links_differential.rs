//! Differential fuzzing of link extraction: the fast extractor against the `select` reference
//! on arbitrary bytes. Run from `fuzz/` (see `fuzz/README.md`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let fast = crawler::links::extract(body);
    let reference = crawler::links::extract_dom(&String::from_utf8_lossy(body));
    assert_eq!(fast, reference, "body {:?}", String::from_utf8_lossy(body));
});
