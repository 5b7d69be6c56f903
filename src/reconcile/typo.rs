//! The typing mistakes that make a reconciliation fail by an odd amount: two adjacent digits swapped (54.00 typed
//! for 45.00) and a misplaced decimal point (450.00 or 4.50 for 45.00). For each uncleared posting in order, each of
//! its possible corrections is tried: one that alone equals the difference, then one that with a single other
//! uncleared posting makes it up, then one that with all the others does (the statement took everything, and one
//! amount was typed wrong). The first such posting is the hint; amounts are integer minor units. A typo among some
//! but not all of the others, or in a posting already cleared, is not looked for.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// What the mistake was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypoKind {
    /// Two adjacent digits swapped.
    Transposed,
    /// Typed ten times too large.
    TenTimes,
    /// Typed a tenth of the right amount.
    Tenth,
}

impl TypoKind {
    pub fn describe(self) -> &'static str {
        match self {
            TypoKind::Transposed => "two digits swapped",
            TypoKind::TenTimes => "ten times too much",
            TypoKind::Tenth => "a tenth of it",
        }
    }
}

/// A likely typo: the amount at `index` probably should be `likely`; with it, the amounts at `with` (none, or one)
/// make up the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub index: usize,
    pub likely: i64,
    pub kind: TypoKind,
    pub with: Vec<usize>,
}

/// What `amount` may have been meant as: each adjacent swap of two different digits (a leading zero aside), a tenth
/// (when it divides), ten times.
pub fn corrections(amount: i64) -> Vec<(i64, TypoKind)> {
    let digits: Vec<u8> = amount.unsigned_abs().to_string().into_bytes();
    let sign = amount.signum();
    let mut out = Vec::new();
    for k in 0..digits.len().saturating_sub(1) {
        if digits[k] == digits[k + 1] || (k == 0 && digits[1] == b'0') {
            continue;
        }
        let mut d = digits.clone();
        d.swap(k, k + 1);
        let swapped = std::str::from_utf8(&d)
            .ok()
            .and_then(|s| s.parse::<i64>().ok());
        if let Some(v) = swapped {
            out.push((sign * v, TypoKind::Transposed));
        }
    }
    if amount % 10 == 0 {
        out.push((amount / 10, TypoKind::TenTimes));
    }
    if let Some(v) = amount.checked_mul(10) {
        out.push((v, TypoKind::Tenth));
    }
    out.retain(|&(v, _)| v != amount && v != 0);
    out
}

/// The first amount (in order) whose correction alone makes up `difference`, or with one other amount does, or
/// with all the others.
pub fn likely_typo(amounts: &[i64], difference: i64) -> Option<Hint> {
    alone_or_with_one(amounts, difference).or_else(|| with_all_others(amounts, difference))
}

/// The first amount whose correction, with every other amount, makes up `difference`.
fn with_all_others(amounts: &[i64], difference: i64) -> Option<Hint> {
    let total = amounts.iter().try_fold(0i64, |s, &a| s.checked_add(a))?;
    let shift = difference.checked_sub(total)?;
    amounts.iter().enumerate().find_map(|(i, &a)| {
        corrections(a)
            .into_iter()
            .find(|&(v, _)| v.checked_sub(a) == Some(shift))
            .map(|(likely, kind)| Hint {
                index: i,
                likely,
                kind,
                with: (0..amounts.len()).filter(|&j| j != i).collect(),
            })
    })
}

fn alone_or_with_one(amounts: &[i64], difference: i64) -> Option<Hint> {
    let mut first_at: FxHashMap<i64, Vec<usize>> = FxHashMap::default();
    for (i, &a) in amounts.iter().enumerate() {
        first_at.entry(a).or_default().push(i);
    }
    let alone = amounts.iter().enumerate().find_map(|(i, &a)| {
        corrections(a)
            .into_iter()
            .find(|&(v, _)| v == difference)
            .map(|(likely, kind)| Hint {
                index: i,
                likely,
                kind,
                with: Vec::new(),
            })
    });
    if alone.is_some() {
        return alone;
    }
    amounts.iter().enumerate().find_map(|(i, &a)| {
        corrections(a).into_iter().find_map(|(likely, kind)| {
            let other = first_at
                .get(&difference.checked_sub(likely)?)?
                .iter()
                .copied()
                .find(|&j| j != i)?;
            Some(Hint {
                index: i,
                likely,
                kind,
                with: vec![other],
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_swap_digits_and_move_the_point() {
        let c = corrections(-5400);
        assert!(c.contains(&(-4500, TypoKind::Transposed)));
        assert!(c.contains(&(-5040, TypoKind::Transposed)));
        assert!(c.contains(&(-540, TypoKind::TenTimes)));
        assert!(c.contains(&(-54000, TypoKind::Tenth)));
        assert!(!corrections(1000).iter().any(|&(v, _)| v == 1000));
        assert!(
            !corrections(1050).iter().any(|&(v, _)| v == 150),
            "no leading zero"
        );
    }

    #[test]
    fn alone_first_then_with_one_other() {
        assert_eq!(
            likely_typo(&[100, 5400, 7], 4500),
            Some(Hint {
                index: 1,
                likely: 4500,
                kind: TypoKind::Transposed,
                with: vec![]
            })
        );
        let h = likely_typo(&[2000, 45000, 999], 6500).expect("hint");
        assert_eq!((h.index, h.likely, h.with), (1, 4500, vec![0]));
        assert_eq!(h.kind, TypoKind::TenTimes);
        assert_eq!(likely_typo(&[1, 2, 3], 4500), None);
        let all = likely_typo(&[-5400, -3000, -2200, -8000], -17700).expect("hint");
        assert_eq!((all.index, all.likely, all.with), (0, -4500, vec![1, 2, 3]));
    }
}
