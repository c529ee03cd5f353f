//! Link extraction from XML and XHTML. Any bytes: the XML reader and the XHTML reading (XML's
//! empty raw-text elements closed, then lol_html) never panic; a reader error is an outcome.
#![no_main]

use crawler::links::{ExtractError, Links, extract_xhtml_into, extract_xml_into};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let document = Url::parse("http://h/d/feed.xml").unwrap();
    let mut found = Links::default();
    if let Err(ExtractError::Panic(why)) = extract_xml_into(data, &document, &mut found) {
        panic!("xml: {why}");
    }
    if let Err(ExtractError::Panic(why)) = extract_xhtml_into(data, &mut found) {
        panic!("xhtml: {why}");
    }
});
