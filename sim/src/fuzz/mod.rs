//! Fuzzing the engine on random site graphs with swarm faults: cases, the generator, the
//! independent oracle, the checks and the shrinker.
//!
//! - [`Case`]: a site graph as data (nodes by index, edges spelled many ways), its network and
//!   crawl options; it renders to a site file ([`Case::site`]) and a [`crawler::Config`].
//! - [`generate`]: the case of a seed, drawn from one [`Rng`](crate::Rng), with swarm faults and
//!   a faulty phase that ends at a drawn virtual time.
//! - [`Oracle`]: what a correct crawl must fetch, by breadth-first search over the case; it
//!   calls none of the engine's code.
//! - [`check`]: runs a case twice and checks every property; a [`Failure`] names the
//!   [`Property`] and the evidence.
//! - [`shrink`]: minimises a failing case, deterministically, to a small site file.
//! - [`Counterexample`]: a shrunk case written out, with the `crawl-sim` command that replays it
//!   and a [`Regression`] file to commit.
//! - [`Regression`]: a case kept as its site file, options and seed, read back into a case by
//!   [`Case::from_site`], so committed regressions outlive changes to the generator.
//!
//! The property tests (`tests/props/`) draw cases with shrinkable proptest strategies and use
//! the same oracle and checks; `crawl-sim fuzz` draws them from seeds until time runs out.
//!
//! ```
//! use crawler_sim::fuzz;
//! let case = fuzz::generate(7);
//! assert_eq!(case, fuzz::generate(7)); // a seed is a case
//! let passed = fuzz::check(&case).expect("the engine holds up");
//! assert!(passed.records >= 1);
//! ```

mod case;
mod check;
mod crash;
mod generate;
mod oracle;
mod reach;
mod regress;
mod robots;
mod shrink;
mod sitemaps;
mod workers;

use std::io;
use std::path::{Path, PathBuf};

pub use case::{
    Case, DOWN, EXCLUDE, Edge, FEATURES, Form, GARBAGE, HOSTS, Location, META_ROBOTS, Network,
    Node, NodeKind, Target, meta_robots_says,
};
pub use check::{Failure, Passed, Property, check, first_difference};
pub use crash::Crash;
pub use generate::{MAX_NODES, SCRIPT_OUTCOMES, add_gadget, generate};
pub use oracle::{Final, Oracle, OracleLabel, Prediction, own_status, resolve, retryable};
pub use reach::Reach;
pub use regress::{KeptCrash, REGRESSION_FORMAT, Regression, RegressionError, options_of};
pub use robots::{Agent, Group, RobotsFile, Rule};
pub use shrink::{MAX_ATTEMPTS, Shrunk, shrink, shrink_with};
pub use sitemaps::{Sitemap, SitemapFile};
pub use workers::{WorkerFault, WorkerFaultKind, Workers};

use crate::replay_command;

/// A failing case written out as a site file, and how to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counterexample {
    /// The site file.
    pub site: PathBuf,
    /// The regression file (site, options, seed and a note): what to commit under
    /// `fixtures/regressions/` once its `why` says what was wrong.
    pub regression: PathBuf,
    /// The `crawl-sim` command that replays the crawl, event for event.
    pub replay: String,
}

impl Counterexample {
    /// Writes `case` to `dir/<name>.json` and builds its replay command; see
    /// [`write_noted`](Self::write_noted), with a note still to be written.
    pub fn write(dir: &Path, name: &str, case: &Case) -> io::Result<Counterexample> {
        Self::write_noted(dir, name, case, "(say what was wrong and what fixed it)")
    }

    /// Writes `case` to `dir/<name>.json` (the site file), and to `dir/<name>.regression.json`
    /// as a [`Regression`] noted `why`, and builds its replay command.
    pub fn write_noted(
        dir: &Path,
        name: &str,
        case: &Case,
        why: &str,
    ) -> io::Result<Counterexample> {
        std::fs::create_dir_all(dir)?;
        let site = dir.join(format!("{name}.json"));
        let json = serde_json::to_string_pretty(&case.site()).map_err(io::Error::other)?;
        std::fs::write(&site, json + "\n")?;
        let config = case.config();
        let replay = replay_command(&site, case.seed, case.budget(&config), &config);
        let regression = dir.join(format!("{name}.regression.json"));
        Regression::of(case, why).write(&regression)?;
        Ok(Counterexample {
            site,
            regression,
            replay,
        })
    }
}

/// Checks the case of `seed`: [`check`] of [`generate`].
pub fn check_seed(seed: u64) -> Result<Passed, Failure> {
    check(&generate(seed))
}
