//! Differential fuzzing of link extraction: the engine's streaming extractor against the `select`
//! reference on arbitrary bytes, modulo exactly the named differences of
//! `crawler::links::agreement` (which also fails on a parser error or a caught panic). Run from
//! `fuzz/` (see `fuzz/README.md`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Err(why) = crawler::links::agreement::check(body) {
        panic!("{why}");
    }
});
