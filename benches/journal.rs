//! Criterion benchmarks of the journal backend: open (read + parse + index) a generated journal of 10k and 100k
//! transactions and compute every account's balance, the work `tally balances` does. The journals are generated once
//! into a temp directory with the same seed as `scripts/bench.sh`, so numbers are comparable between runs; the 1M case
//! lives in the script (a criterion sample of it would take minutes).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::generate::{GenerateOptions, generate};

fn write_journal(dir: &Path, transactions: usize) -> PathBuf {
    let path = dir.join(format!("bench-{transactions}.journal"));
    let mut file = std::fs::File::create(&path).expect("create journal");
    let opts = GenerateOptions {
        transactions,
        seed: 1,
        ..GenerateOptions::default()
    };
    generate(&opts, &mut file).expect("generate journal");
    path
}

fn open_and_balance(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("journal_open_and_balances");
    group.measurement_time(Duration::from_secs(10));
    for transactions in [10_000usize, 100_000] {
        let path = write_journal(dir.path(), transactions);
        let bytes = std::fs::metadata(&path).expect("journal size").len();
        group.throughput(Throughput::Bytes(bytes));
        if transactions >= 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::from_parameter(transactions),
            &path,
            |b, path| {
                b.iter(|| {
                    let backend = JournalBackend::open(path).expect("open journal");
                    let accounts = runtime.block_on(backend.accounts()).expect("accounts");
                    black_box(accounts)
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, open_and_balance);
criterion_main!(benches);
