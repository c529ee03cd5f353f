//! The liveness property of one crawl: once the faulty phase is over, every try gets the
//! site's own answer, so a URL whose last try came after it ends with its own status.

use std::collections::BTreeMap;
use std::time::Duration;

use crawler::Record;
use url::Url;

use super::super::case::Case;
use super::super::oracle::Oracle;
use super::{Failure, Property};
use crate::SimRun;

/// After the faulty phase, a URL's last try gets the site's own answer.
pub(super) fn check_liveness(
    case: &Case,
    oracle: &Oracle<'_>,
    run: &SimRun,
    records: &BTreeMap<String, &Record>,
) -> Result<(), Failure> {
    let mut last_try: BTreeMap<&str, Duration> = BTreeMap::new();
    for r in &run.requests {
        last_try.insert(r.url.as_str(), r.at);
    }
    for (url, record) in records {
        let parsed = Url::parse(url).expect("records hold absolute URLs");
        if oracle.predict(&parsed).is_some() {
            continue; // deterministic: checked against the prediction already
        }
        let Some(until) = case.faults_until(oracle.node(url)) else {
            continue;
        };
        let at = last_try[url.as_str()];
        if at.as_secs_f64() * 1000.0 < until {
            continue;
        }
        let own = oracle.own_status(url);
        ensure!(
            Property::Liveness,
            record.status == Some(own),
            "{url}: its last try at {at:?} came after the faults stopped ({until} ms), yet it \
             ended with {:?} ({:?}), not its own status {own}",
            record.status,
            record.error
        );
    }
    Ok(())
}
