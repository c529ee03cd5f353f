//! Regression files read back: a case kept as its site file, options and seed comes back as a
//! case that renders the same site and options and crawls event for event alike.

use crawler_sim::Sim;
use crawler_sim::fuzz::{self, Case, Regression, options_of};
use crawler_site::Site;
use proptest::test_runner::TestCaseError;

/// The trace hash of one run of `case`.
fn trace_hash(case: &Case) -> Result<u64, TestCaseError> {
    let config = case.config();
    let site = Site::from_spec(case.site()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let sim = Sim::builder()
        .seed(case.seed)
        .site(site)
        .budget(case.budget(&config))
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let run = sim
        .run(&config)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(run.trace_hash)
}

/// `case`, written as a regression file and read back, is the same case to every check.
pub fn check_read_back(case: &Case) -> Result<(), TestCaseError> {
    let text = Regression::of(case, "a property test").to_json();
    let again = Regression::from_json(&text)
        .and_then(|r| r.case())
        .map_err(|e| TestCaseError::fail(format!("seed {}: {e}", case.seed)))?;
    proptest::prop_assert_eq!(again.site(), case.site());
    proptest::prop_assert_eq!(options_of(&again.config()), options_of(&case.config()));
    proptest::prop_assert_eq!(again.seed, case.seed);
    proptest::prop_assert_eq!(fuzz::check(&again), fuzz::check(case));
    proptest::prop_assert_eq!(trace_hash(&again)?, trace_hash(case)?);
    Ok(())
}
