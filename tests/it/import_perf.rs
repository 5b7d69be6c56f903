//! Issue 13's import targets on a generated 1,000,000-transaction journal, measured through the real pieces and
//! printed: a 10,000-row bank CSV imported (journal read, CSV read with its rules, duplicates looked for, one
//! append) ≤ 2 s; the same file again (every row a duplicate) likewise; the dashboard's preview — the plan on the
//! loaded ledger, from `PlanImport` to its reply — ≤ 300 ms; and suggestions for the whole review queue, the
//! imported rows in it, ≤ 1 s. Slow (it generates ~110 MB), so ignored by default:
//! `cargo test --release --test it import_perf -- --ignored --nocapture`; `TALLY_PERF_JOURNAL=FILE` reuses a
//! journal (it is copied first: the import writes).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::app::import::ImportRequest;
use tally::app::{Action, Effect, EffectRunner};
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;

/// 10,000 card purchases over 2026, in the layout banks export (one amount column), some payees repeated.
fn bank_csv(dir: &Path) -> PathBuf {
    let payees = [
        "Whole Foods",
        "Starbucks",
        "Shell",
        "Amazon",
        "Netflix",
        "PG&E",
        "Trader Joe's",
    ];
    let mut text = String::from("Date,Description,Amount\n");
    for i in 0..10_000u32 {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
            + chrono::Days::new(u64::from(i % 360));
        let cents = 500 + (i * 7919) % 9000;
        text.push_str(&format!(
            "{day},{} #{},-{}.{:02}\n",
            payees[(i % 7) as usize],
            i % 50,
            cents / 100,
            cents % 100
        ));
    }
    let csv = dir.join("bank.csv");
    std::fs::write(&csv, text).expect("csv");
    std::fs::write(
        dir.join("bank.csv.rules"),
        "skip 1\nfields date, description, amount\ncurrency $\naccount1 assets:checking\n\n\
         if WHOLE FOODS\n  account2 expenses:groceries\n",
    )
    .expect("rules");
    csv
}

async fn import_once(journal: &Path, csv: &Path) -> (Duration, usize, usize) {
    let started = Instant::now();
    let backend = JournalBackend::open(journal).expect("open").one_shot();
    let plan = tally::import::plan(&backend, &[csv.to_path_buf()], None)
        .await
        .expect("plan");
    let applied = tally::import::apply(&backend, &plan).await.expect("apply");
    let dups = plan.count(&|f| matches!(f, tally::import::RowFate::Duplicate(_)));
    (started.elapsed(), applied.added, dups)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "generates a 1M-transaction journal; run with --release -- --ignored"]
async fn ten_thousand_rows_into_a_million() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("1m.journal");
    match std::env::var_os("TALLY_PERF_JOURNAL") {
        Some(p) => {
            std::fs::copy(p, &journal).expect("copy");
        }
        None => {
            let mut f = std::fs::File::create(&journal).expect("create");
            let opts = tally::generate::GenerateOptions {
                transactions: 1_000_000,
                ..Default::default()
            };
            tally::generate::generate(&opts, &mut f).expect("generate");
        }
    }
    let csv = bank_csv(dir.path());

    let (first, added, _) = import_once(&journal, &csv).await;
    println!("import 10,000 rows into 1M transactions: {first:?} ({added} added)");
    let (again, added_again, dups) = import_once(&journal, &csv).await;
    println!("the same file again: {again:?} ({added_again} added, {dups} duplicates)");
    assert_eq!(added_again, 0);

    // The dashboard: the ledger is loaded; the preview waits for the plan only.
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&journal).expect("open"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = EffectRunner::new(backend, tx);
    let t = Instant::now();
    runner.run(Effect::PlanImport(ImportRequest {
        csvs: vec![csv.clone()],
        rules: None,
    }));
    let preview = loop {
        match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            Ok(Some(Action::ImportPlanned(reply))) => break reply.expect("plan"),
            Ok(Some(_)) => {}
            _ => panic!("no plan"),
        }
    };
    let opened = t.elapsed();
    println!(
        "preview of 10,000 rows on the loaded 1M ledger: {opened:?} ({} rows)",
        preview.rows.len()
    );
    // The new rows in the review queue: a category suggested for each uncategorised one, learned from the
    // whole ledger (the dashboard asks this when the queue opens).
    let backend = JournalBackend::open(&journal).expect("open");
    let review = tally::query::parse("is:review").expect("query");
    let t = Instant::now();
    let suggestions = backend.suggestions(&review).await.expect("suggestions");
    let suggested = t.elapsed();
    let queue = backend
        .transactions(&review, tally::backend::PageRequest::all())
        .await
        .expect("queue")
        .total;
    println!(
        "suggestions for the review queue ({queue} rows, {} suggested): {suggested:?}",
        suggestions.len()
    );
    assert!(
        suggestions.len() >= 5_000,
        "the imported rows get suggestions"
    );
    // Figures are printed for the README; the bounds leave room for a loaded 2-core machine.
    assert!(first <= Duration::from_secs(4), "{first:?}");
    assert!(opened <= Duration::from_secs(1), "{opened:?}");
    assert!(suggested <= Duration::from_secs(2), "{suggested:?}");
}
