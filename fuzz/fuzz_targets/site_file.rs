//! The site-file parser, and whatever site it accepts crawled by the real engine in the
//! simulator: loading never panics, and a loaded site with roots is crawled to the end (no
//! deadlock, no budget overrun, nothing left in flight, one record per URL).
#![no_main]

use std::time::Duration;

use crawler::Config;
use crawler_site::{Latency, Site, SiteSpec};
use crawler_fuzz::assert_once;
use crawler_sim::Sim;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let site = Site::from_json(text);
    let spec = serde_json::from_str::<SiteSpec>(text);
    assert_eq!(
        spec.is_ok() && site.is_ok(),
        site.is_ok(),
        "from_json accepted what serde refused"
    );
    let (Ok(site), Ok(spec)) = (site, spec) else {
        return;
    };
    // A valid spec written out reads back as a valid site.
    let written = serde_json::to_string(&spec).expect("a spec serialises");
    Site::from_json(&written).expect("a written spec reads back");
    if site.roots().is_empty() {
        return;
    }
    let config = Config::builder()
        .roots(site.roots().iter().cloned())
        .max_pages(40)
        .max_tries(2)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("the site's roots were validated");
    // The file's latency may be days long; the point here is the engine, so keep it short.
    let sim = Sim::builder()
        .seed(1)
        .site(site)
        .latency(Latency::default())
        .build()
        .expect("a site is given");
    let run = sim.run(&config).expect("the crawl ends within the budget");
    assert_eq!(run.in_flight, 0);
    assert_once(&run.records);
    assert!(run.max_in_flight <= config.max_tasks());
});
