//! The search behind "find the difference": the smallest set of amounts (integer minor units) that sums exactly to a
//! target, and among sets of that size the first in the caller's order (the tuple of indices that sorts first, so
//! with postings listed oldest first the oldest postings win). Sizes are tried one after another; a set of size k is
//! a prefix of k−t indices enumerated in order, completed by a tail of t looked up in a table: the single amounts
//! (t = 1) or every pair (t = 2, a sorted table of pair sums, for k ≥ 4 when it fits the budget) — meet in the
//! middle, so sets of up to four of a thousand postings cost one pass over the pairs. Each prefix step is pruned by
//! bounds: the r smallest and r largest amounts left after a position bound what r of them can add up to, and once
//! the target falls outside them it stays outside for every later position. The work (prefix steps, look-ups,
//! pair-table entries) is counted against a budget, so the answer comes in bounded time; the result says up to
//! which size every set was searched and whether the search was cut short.

use rustc_hash::FxHashMap;

/// How much the search may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest set tried.
    pub max_size: usize,
    /// Units of work (prefix steps, table look-ups, pair-table entries) before the search stops.
    pub budget: u64,
}

impl Default for Limits {
    /// Every set of up to four of 1,000 amounts, and larger sets as far as the budget goes: well under 200 ms.
    fn default() -> Self {
        Limits {
            max_size: 12,
            budget: 4_000_000,
        }
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Indices of the smallest set summing to the target (ascending), if one was found.
    pub set: Option<Vec<usize>>,
    /// Every set of this many amounts or fewer was searched (with no set found, none of those sizes has one).
    pub searched_up_to: usize,
    /// Not every size was searched: the budget ran out, or `Limits::max_size` is less than the number of amounts.
    pub cut: bool,
    /// Units of work done.
    pub work: u64,
}

/// The budget ran out.
struct Spent;

/// The r smallest and r largest sums possible from the amounts at and after each position.
struct Bounds {
    width: usize,
    lo: Vec<i64>,
    hi: Vec<i64>,
}

impl Bounds {
    fn new(amounts: &[i64], max_r: usize) -> Bounds {
        let width = max_r + 1;
        let n = amounts.len();
        let mut lo = vec![i64::MAX; (n + 1) * width];
        let mut hi = vec![i64::MIN; (n + 1) * width];
        let (mut smallest, mut largest): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
        for i in (0..=n).rev() {
            if i < n {
                keep_extreme(&mut smallest, amounts[i], max_r, false);
                keep_extreme(&mut largest, amounts[i], max_r, true);
            }
            let (mut s, mut l) = (0i64, 0i64);
            lo[i * width] = 0;
            hi[i * width] = 0;
            for r in 1..width {
                let (Some(a), Some(b)) = (smallest.get(r - 1), largest.get(r - 1)) else {
                    break;
                };
                s = s.saturating_add(*a);
                l = l.saturating_add(*b);
                lo[i * width + r] = s;
                hi[i * width + r] = l;
            }
        }
        Bounds { width, lo, hi }
    }

    /// Whether `r` amounts from position `i` on can sum to `need`.
    fn reachable(&self, i: usize, r: usize, need: i64) -> bool {
        let k = i * self.width + r;
        self.lo[k] <= need && need <= self.hi[k]
    }
}

/// Keeps `list` the (up to) `max` smallest (or largest) values seen, sorted from the most extreme.
fn keep_extreme(list: &mut Vec<i64>, v: i64, max: usize, largest: bool) {
    let at = list.partition_point(|&x| if largest { x >= v } else { x <= v });
    if at < max {
        list.insert(at, v);
        list.truncate(max);
    }
}

/// Every pair `(sum, i, j)` with `i < j`, sorted: for a sum, the pairs after a position are found by one search.
struct Pairs(Vec<(i64, u32, u32)>);

impl Pairs {
    fn new(amounts: &[i64]) -> Pairs {
        let n = amounts.len();
        let mut v = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                v.push((amounts[i].saturating_add(amounts[j]), i as u32, j as u32));
            }
        }
        v.sort_unstable();
        Pairs(v)
    }

    /// The first pair (in index order) summing to `need` whose indices both come after `after`.
    fn first_after(&self, need: i64, after: Option<usize>) -> Option<[usize; 2]> {
        let floor = after.map_or(-1, |a| a as i64);
        let k = self
            .0
            .partition_point(|&(s, i, _)| (s, i as i64) <= (need, floor));
        self.0
            .get(k)
            .filter(|&&(s, _, _)| s == need)
            .map(|&(_, i, j)| [i as usize, j as usize])
    }
}

/// The state of one search.
struct Search<'a> {
    amounts: &'a [i64],
    singles: FxHashMap<i64, Vec<usize>>,
    pairs: Option<Pairs>,
    bounds: Bounds,
    budget: u64,
    work: u64,
}

impl Search<'_> {
    fn charge(&mut self, units: u64) -> Result<(), Spent> {
        self.work += units;
        if self.work > self.budget {
            Err(Spent)
        } else {
            Ok(())
        }
    }

    /// The first index after `after` holding exactly `need`.
    fn single_after(&self, need: i64, after: Option<usize>) -> Option<usize> {
        let list = self.singles.get(&need)?;
        let k = after.map_or(0, |a| list.partition_point(|&i| i <= a));
        list.get(k).copied()
    }

    /// The first set of exactly `k` amounts summing to `target`, in index order.
    fn of_size(&mut self, k: usize, target: i64) -> Result<Option<Vec<usize>>, Spent> {
        if !self.bounds.reachable(0, k, target) {
            return Ok(None);
        }
        if k >= 4 && self.pairs.is_none() {
            let n = self.amounts.len() as u64;
            let cost = n * n.saturating_sub(1) / 2;
            // The pair table pays for itself at size four; build it when the budget allows.
            if self.work + cost < self.budget / 2 {
                self.charge(cost)?;
                self.pairs = Some(Pairs::new(self.amounts));
            }
        }
        let tail = if k >= 4 && self.pairs.is_some() { 2 } else { 1 };
        let mut prefix = Vec::with_capacity(k);
        self.extend(&mut prefix, (k, tail), target)
    }

    /// Extends `prefix` (its sum taken from `need`) to `k` indices, the last `tail` from a table.
    fn extend(
        &mut self,
        prefix: &mut Vec<usize>,
        (k, tail): (usize, usize),
        need: i64,
    ) -> Result<Option<Vec<usize>>, Spent> {
        let after = prefix.last().copied();
        if prefix.len() + tail == k {
            self.charge(1)?;
            let found = match tail {
                1 => self.single_after(need, after).map(|i| vec![i]),
                _ => self
                    .pairs
                    .as_ref()
                    .and_then(|p| p.first_after(need, after))
                    .map(Vec::from),
            };
            return Ok(found.map(|t| prefix.iter().copied().chain(t).collect()));
        }
        let left = k - prefix.len();
        let start = after.map_or(0, |a| a + 1);
        for i in start..self.amounts.len() {
            self.charge(1)?;
            if !self.bounds.reachable(i, left, need) {
                // Later positions leave fewer amounts: the bounds only tighten.
                break;
            }
            prefix.push(i);
            let rest = need.saturating_sub(self.amounts[i]);
            if let Some(set) = self.extend(prefix, (k, tail), rest)? {
                return Ok(Some(set));
            }
            prefix.pop();
        }
        Ok(None)
    }
}

/// The smallest set of `amounts` (by index, ascending) summing exactly to `target`; among sets of that size, the
/// one whose indices sort first. Zero amounts are never part of a set (they would only make it larger). The target
/// zero is met by the empty set.
pub fn smallest_subset(amounts: &[i64], target: i64, limits: &Limits) -> Found {
    if target == 0 {
        return Found {
            set: Some(Vec::new()),
            searched_up_to: 0,
            cut: false,
            work: 0,
        };
    }
    // Zero amounts cannot make a smallest set: search the others, then map back.
    let kept: Vec<usize> = (0..amounts.len()).filter(|&i| amounts[i] != 0).collect();
    let values: Vec<i64> = kept.iter().map(|&i| amounts[i]).collect();
    let max_size = limits.max_size.min(values.len());
    let mut singles: FxHashMap<i64, Vec<usize>> = FxHashMap::default();
    for (i, &v) in values.iter().enumerate() {
        singles.entry(v).or_default().push(i);
    }
    let mut search = Search {
        amounts: &values,
        singles,
        pairs: None,
        bounds: Bounds::new(&values, max_size),
        budget: limits.budget,
        work: values.len() as u64,
    };
    let mut searched_up_to = 0;
    for k in 1..=max_size {
        match search.of_size(k, target) {
            Ok(Some(set)) => {
                return Found {
                    set: Some(set.into_iter().map(|i| kept[i]).collect()),
                    searched_up_to: k,
                    cut: false,
                    work: search.work,
                };
            }
            Ok(None) => searched_up_to = k,
            Err(Spent) => {
                return Found {
                    set: None,
                    searched_up_to,
                    cut: true,
                    work: search.work,
                };
            }
        }
    }
    Found {
        set: None,
        searched_up_to,
        cut: max_size < values.len(),
        work: search.work,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn find(amounts: &[i64], target: i64) -> Option<Vec<usize>> {
        smallest_subset(amounts, target, &Limits::default()).set
    }

    #[test]
    fn smallest_set_first_then_earliest() {
        let a = [500, 1200, 700, 300, 1500, 200];
        assert_eq!(find(&a, 1500), Some(vec![4]), "one posting beats two");
        assert_eq!(
            find(&a, 1000),
            Some(vec![2, 3]),
            "700+300 before 500+... none of size 1"
        );
        assert_eq!(
            find(&a, 2000),
            Some(vec![0, 4]),
            "500+1500 sorts before 1200+... and 700+..."
        );
        assert_eq!(find(&a, 0), Some(vec![]));
        assert_eq!(find(&a, 1), None);
        assert_eq!(find(&[0, 5, 0, -5, 7], 2), Some(vec![3, 4]));
    }

    #[test]
    fn large_sets_use_the_pair_table_and_say_how_far_they_searched() {
        // Powers of two: every set has its own sum, so the five are the only answer.
        let a: Vec<i64> = (1..=40).map(|i| 1i64 << i).collect();
        let target = a[3] + a[10] + a[20] + a[30] + a[39];
        let f = smallest_subset(&a, target, &Limits::default());
        let set = f.set.expect("found");
        assert_eq!(set.len(), 5);
        assert_eq!(set.iter().map(|&i| a[i]).sum::<i64>(), target);
        assert!(!f.cut);
        let none = smallest_subset(&a, 7, &Limits::default());
        assert_eq!(none.set, None, "the bounds prove it at once");
        assert!(none.work < 100, "{}", none.work);
        assert_eq!(
            (none.searched_up_to, none.cut),
            (12, true),
            "sets of 13 or more were not tried"
        );
        // Odd, so no set of even amounts makes it; only the budget ends the search.
        let tight = smallest_subset(
            &a,
            (1 << 30) + 1,
            &Limits {
                max_size: 40,
                budget: 500,
            },
        );
        assert!(tight.cut && tight.set.is_none());
    }

    /// The smallest size with a set, and the first such set in index order, by trying every subset.
    fn brute(amounts: &[i64], target: i64) -> Option<Vec<usize>> {
        let n = amounts.len();
        let mut best: Option<Vec<usize>> = None;
        for mask in 0u32..(1 << n) {
            let set: Vec<usize> = (0..n)
                .filter(|i| mask & (1 << i) != 0 && amounts[*i] != 0)
                .collect();
            if set.len() != mask.count_ones() as usize
                || set.iter().map(|&i| amounts[i]).sum::<i64>() != target
            {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => (set.len(), &set) < (b.len(), b),
            };
            if better {
                best = Some(set);
            }
        }
        best
    }

    proptest! {
        #[test]
        fn finds_exactly_the_smallest_first_set(
            amounts in proptest::collection::vec(-30i64..30, 0..11),
            target in -60i64..60,
        ) {
            let limits = Limits { max_size: 12, budget: u64::MAX };
            let f = smallest_subset(&amounts, target, &limits);
            if let Some(set) = &f.set {
                prop_assert_eq!(set.iter().map(|&i| amounts[i]).sum::<i64>(), target);
                prop_assert!(set.windows(2).all(|w| w[0] < w[1]));
            }
            let want = if target == 0 { Some(vec![]) } else { brute(&amounts, target) };
            prop_assert_eq!(f.set, want);
            prop_assert!(!f.cut);
        }

        #[test]
        fn a_set_within_the_searched_sizes_is_never_missed(
            amounts in proptest::collection::vec(-5000i64..5000, 1..60),
            picks in proptest::collection::vec(0usize..60, 1..5),
        ) {
            let mut chosen: Vec<usize> = picks.iter().map(|p| p % amounts.len()).collect();
            chosen.sort_unstable();
            chosen.dedup();
            let target: i64 = chosen.iter().map(|&i| amounts[i]).sum();
            let f = smallest_subset(&amounts, target, &Limits::default());
            let real = chosen.iter().filter(|&&i| amounts[i] != 0).count();
            // A set of at most four exists; every such size is searched within the default budget.
            let set = f.set.clone().expect("a set of at most four exists");
            prop_assert!(set.len() <= real);
            prop_assert_eq!(set.iter().map(|&i| amounts[i]).sum::<i64>(), target);
            prop_assert!(f.searched_up_to >= set.len());
        }
    }
}
