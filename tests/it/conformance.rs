//! The backend conformance suite (`crate::conformance_suite`) on every backend tally ships with a server for:
//! the journal on a temp copy of the fixture, and the REST client talking to `tally serve` (the real router on
//! 127.0.0.1) in front of a journal on another copy. Both must pass the same scenarios, and the REST backend must
//! answer every read exactly as the journal it serves.

use crate::rest_support;

use crate::conformance_suite::{FIXTURE, Hledger, assert_same, run_all};
use rest_support::{KEY, client, journal_copy, serve_fixture};
use tally::backend::journal::JournalBackend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_backend_conforms() {
    let (_dir, path) = journal_copy(FIXTURE);
    let backend = JournalBackend::open(&path).expect("fixture opens");
    run_all(&backend, &Hledger(&path)).await;
    // The write scenarios undo themselves: the file is back to the fixture's bytes.
    assert_eq!(std::fs::read_to_string(&path).expect("read back"), FIXTURE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_backend_against_tally_serve_conforms() {
    let served = serve_fixture(&[KEY], 0).await;
    let rest = client(&served.url);
    run_all(&rest, &Hledger(&served.journal)).await;
    assert_eq!(
        std::fs::read_to_string(&served.journal).expect("read back"),
        FIXTURE
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_exactly_like_the_journal_it_serves() {
    let served = serve_fixture(&[KEY], 0).await;
    let rest = client(&served.url);
    let (_dir, path) = journal_copy(FIXTURE);
    let local = JournalBackend::open(&path).expect("fixture opens");
    assert_same(&local, &rest).await;
    served.stop().await;
}
