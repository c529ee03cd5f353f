//! The replay guarantee on random sites: crawl a generated site in the simulator with every
//! exchange recorded as WARC (`Sim::run_recorded`, the conventions of `crawl --record`), replay
//! the recording with another seed, and compare with the recorded crawl, which is the oracle:
//!
//! 7. the replay fetches exactly the recorded URLs, each with the recorded outcome (status,
//!    redirect target, error, tries, size, links; see `common`), asks for nothing unrecorded and
//!    for no URL more often than recorded;
//! 8. two replays with one seed give one trace;
//! 9. a replay with narrower options (an exclude pattern, or one redirect hop less) fetches a
//!    subset, with the recorded statuses, and asks for nothing unrecorded.

use crawler_sim::{Recording, Replay, Sim};
use crawler_site::Site;

use crawler_sim::fuzz::Case;

use crate::common::{same_outcomes, subset};

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Records one case, replays it, and checks 7 to 9. `Err` carries what went wrong.
pub fn check_replay(case: &Case) -> Result<(), String> {
    let config = case.config();
    let budget = case.budget(&config);
    let site = Site::from_spec(case.site()).map_err(|e| format!("generated site: {e}"))?;
    let sim = Sim::builder()
        .seed(case.seed)
        .site(site)
        .budget(budget)
        .build()
        .unwrap();
    let gzip = case.seed.is_multiple_of(2);
    let (recorded, warc) = sim.run_recorded(&config, gzip).map_err(|e| e.to_string())?;
    let recording = Recording::from_bytes(&warc).map_err(|e| format!("recording: {e}"))?;
    let replay = Replay::builder(recording)
        .seed(case.seed.wrapping_add(1))
        .budget(budget)
        .build();
    // 7.
    let run = replay.run(&config).map_err(|e| format!("replay: {e}"))?;
    same_outcomes(&recorded.records, &run.run.records)
        .map_err(|e| format!("the replay differs from the recorded crawl:\n{e}"))?;
    check!(
        run.unrecorded.is_empty(),
        "unrecorded: {:?}",
        run.unrecorded
    );
    check!(
        run.exhausted.is_empty(),
        "asked more often than recorded: {:?}",
        run.exhausted
    );
    check!(
        run.run.requests.len() == recorded.requests.len(),
        "{} requests replayed, {} recorded",
        run.run.requests.len(),
        recorded.requests.len()
    );
    // 8.
    let again = replay
        .run(&config)
        .map_err(|e| format!("second replay: {e}"))?;
    check!(
        again.run.trace_hash == run.run.trace_hash,
        "same seed, different replays: trace hash {:016x} then {:016x}",
        run.run.trace_hash,
        again.run.trace_hash
    );
    // 9.
    let mut narrow = case.clone();
    if narrow.exclude {
        narrow.max_redirect = narrow.max_redirect.saturating_sub(1);
    } else {
        narrow.exclude = true;
    }
    let narrow = narrow.config();
    let run = replay
        .run(&narrow)
        .map_err(|e| format!("narrower replay: {e}"))?;
    subset(&recorded.records, &run.run.records)
        .map_err(|e| format!("the narrower replay is no subset:\n{e}"))?;
    check!(
        run.unrecorded.is_empty() && run.exhausted.is_empty(),
        "narrower replay: unrecorded {:?}, exhausted {:?}",
        run.unrecorded,
        run.exhausted
    );
    Ok(())
}
