//! Criterion benchmarks of "find the difference" on 1,000 uncleared postings (amounts like a bank account's: mostly
//! card payments of a few dollars to a few hundred, some deposits): targets made from three and from four of them
//! (among a thousand amounts a smaller set often hits them first), one that no set of three hits, and the worst case
//! — whole-dollar amounts and a target with cents, so no set exists, nothing prunes and the search runs until its
//! work budget is spent — alone and as the whole `reconcile` with its closest posting and typo hint. The target is
//! 200 ms; each case first prints what the search did (set size, sizes searched, cut, work units, time).

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Duration;
use tally::domain::{Money, Status, TxnId};
use tally::reconcile::search::{Limits, smallest_subset};
use tally::reconcile::{AccountPosting, Statement, reconcile};

const N: usize = 1000;

/// Amounts in cents: 85 % payments of $1.00–$400.00, 15 % deposits of $50.00–$3,000.00.
fn amounts() -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    (0..N)
        .map(|_| {
            if rng.random_bool(0.85) {
                -rng.random_range(100..40_000)
            } else {
                rng.random_range(5_000..300_000)
            }
        })
        .collect()
}

fn postings(amounts: &[i64]) -> Vec<AccountPosting> {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    amounts
        .iter()
        .enumerate()
        .map(|(i, &a)| AccountPosting {
            id: TxnId(format!("t{i}")),
            date: start + chrono::Days::new(i as u64 / 3),
            description: format!("posting {i}"),
            status: Status::Unmarked,
            amount: Money::new(Decimal::new(a, 2), "$"),
            location: format!("bench.journal:{}", i * 4 + 1),
            posting: 1,
            account: "assets:bank".into(),
        })
        .collect()
}

fn search(c: &mut Criterion) {
    let a = amounts();
    let limits = Limits::default();
    let three = a[101] + a[502] + a[903];
    let four = a[17] + a[333] + a[640] + a[998];
    // Every amount is a whole number of cents and not a multiple of… nothing: an odd target beyond any sum is
    // found "absent" by the bounds at once, so take one within reach that no set hits (checked below).
    let absent = (1..)
        .map(|k| 1_234_567 + k)
        .find(|&t| {
            smallest_subset(
                &a,
                t,
                &Limits {
                    max_size: 3,
                    budget: u64::MAX,
                },
            )
            .set
            .is_none()
        })
        .expect("a target no set of three hits");
    // Whole dollars: no set makes a target with cents.
    let dollars: Vec<i64> = a.iter().map(|v| v / 100 * 100).collect();
    let mut group = c.benchmark_group("reconcile_1000_uncleared");
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(20);
    let cases = [
        ("from_3", &a, three),
        ("from_4", &a, four),
        ("none_of_3", &a, absent),
        ("worst_no_set_budget_spent", &dollars, 1_234_501),
    ];
    for (name, a, target) in cases {
        let started = std::time::Instant::now();
        let f = smallest_subset(a, target, &limits);
        eprintln!(
            "{name}: set size {:?}, searched up to {}, cut {}, work {} units, {:?}",
            f.set.as_ref().map(Vec::len),
            f.searched_up_to,
            f.cut,
            f.work,
            started.elapsed()
        );
        group.bench_function(name, |b| {
            b.iter(|| black_box(smallest_subset(black_box(a), target, &limits)))
        });
    }
    let list = postings(&dollars);
    let statement = Statement {
        account: "assets:bank".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).expect("date"),
        balance: Money::new(Decimal::new(1_234_501, 2), "$"),
    };
    let cleared = Money::new(Decimal::ZERO, "$");
    group.bench_function("reconcile_worst_with_closest_and_typo", |b| {
        b.iter(|| black_box(reconcile(&statement, &cleared, &list, &limits).expect("reconcile")))
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
