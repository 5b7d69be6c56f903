//! Categories suggested from the ledger's own history: a transaction without a category (or with a placeholder such
//! as `expenses:unknown`) gets the category earlier transactions of the same payee had — the whole payee first
//! (letters and digits, any case: `TRADER JOE'S #552` is `traderjoes552`), else its first two words, else its first
//! word — each earlier one weighing more the closer its amount. The evidence says how many of how many:
//! "8 of 9 earlier 'trader joe' → expenses:groceries".

use crate::domain::{Transaction, TxnId, lacks_category};
use rust_decimal::prelude::ToPrimitive;
use std::collections::HashMap;

/// One suggestion.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suggestion {
    pub id: TxnId,
    pub category: String,
    /// The share of the earlier transactions (weighed by amount) that had this category, 0–1.
    pub confidence: f64,
    pub evidence: String,
}

/// Whether `t` lacks a real category (none, or a placeholder).
pub fn uncategorised(t: &Transaction) -> bool {
    lacks_category(t.category.as_deref(), t.is_transfer())
}

/// The payee's words, letters and digits only, lowercase.
fn words(payee: &str) -> Vec<String> {
    payee
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The keys a payee is known by, most specific first: all its words, its first two, its first.
fn keys(payee: &str) -> Vec<String> {
    let w = words(payee);
    let mut out = Vec::new();
    for n in [w.len(), 2, 1] {
        if n > 0 && n <= w.len() {
            let k = w[..n].join(" ");
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

fn payee_of(t: &Transaction) -> &str {
    if t.payee.is_empty() {
        &t.description
    } else {
        &t.payee
    }
}

fn size(t: &Transaction) -> f64 {
    t.amount()
        .amounts()
        .first()
        .and_then(|m| m.quantity.abs().to_f64())
        .unwrap_or(0.0)
}

/// Steps per unit of an amount's logarithm: earlier amounts are counted in buckets 2.5% wide.
const BUCKETS_PER_LN: f64 = 40.0;

/// An earlier amount's bucket (`None` for zero or a negative size, which weighs as far off).
fn bucket(amount: f64) -> Option<i32> {
    (amount > 0.0).then(|| (amount.ln() * BUCKETS_PER_LN).round() as i32)
}

/// What the history says about each key: how many categorised transactions had each category, by amount bucket.
/// Categories are numbered, each distinct payee's keys worked out once, and amounts counted in buckets, so learning
/// from a million entries stays cheap and a suggestion costs the few buckets of its payee, not its history.
#[derive(Debug, Default)]
pub struct History {
    /// Each key's number, and each number's counts by (category, amount bucket), and their total.
    key_number: HashMap<String, usize>,
    seen: Vec<HashMap<(u32, Option<i32>), u32>>,
    totals: Vec<usize>,
    categories: Vec<String>,
    category_number: HashMap<String, u32>,
    /// Each distinct payee's key numbers, worked out once.
    payee_keys: HashMap<String, Vec<usize>>,
}

impl History {
    pub fn learn(history: &[Transaction]) -> History {
        let mut h = History::default();
        for t in history.iter().filter(|t| !uncategorised(t)) {
            if let Some(category) = &t.category {
                h.add(payee_of(t), category, size(t));
            }
        }
        h
    }

    /// Notes one categorised transaction: its payee, category and amount (the journal feeds its index directly).
    pub fn add(&mut self, payee: &str, category: &str, amount: f64) {
        let number = match self.category_number.get(category) {
            Some(&n) => n,
            None => {
                let n = self.categories.len() as u32;
                self.categories.push(category.to_string());
                self.category_number.insert(category.to_string(), n);
                n
            }
        };
        let numbers = match self.payee_keys.get(payee) {
            Some(n) => n.clone(),
            None => {
                let n: Vec<usize> = keys(payee)
                    .into_iter()
                    .map(|k| {
                        let next = self.seen.len();
                        let n = *self.key_number.entry(k).or_insert(next);
                        if n == next {
                            self.seen.push(HashMap::new());
                            self.totals.push(0);
                        }
                        n
                    })
                    .collect();
                self.payee_keys.insert(payee.to_string(), n.clone());
                n
            }
        };
        let b = bucket(amount);
        for n in numbers {
            *self.seen[n].entry((number, b)).or_default() += 1;
            self.totals[n] += 1;
        }
    }

    /// The suggestion for `t`, when its payee (or the start of it) has been seen with a category.
    pub fn suggest(&self, t: &Transaction) -> Option<Suggestion> {
        self.suggest_for(&t.id, payee_of(t), size(t))
    }

    /// The suggestion for the transaction `id` of `payee` and `amount`.
    pub fn suggest_for(&self, id: &TxnId, payee: &str, amount: f64) -> Option<Suggestion> {
        let (key, n) = keys(payee)
            .into_iter()
            .find_map(|k| self.key_number.get(&k).map(|&n| (k, n)))?;
        let mut weight: HashMap<&str, (f64, usize)> = HashMap::new();
        for (&(number, earlier), &count) in &self.seen[n] {
            let category = self.categories[number as usize].as_str();
            // Closer amounts count more: the same payee can be groceries at $80 and a gift card at $25.
            let ratio = match earlier {
                Some(b) if amount > 0.0 => (amount.ln() - f64::from(b) / BUCKETS_PER_LN).abs(),
                _ => 1.0,
            };
            let w = weight.entry(category).or_default();
            w.0 += f64::from(count) / (1.0 + ratio);
            w.1 += count as usize;
        }
        let total: f64 = weight.values().map(|w| w.0).sum();
        let (category, (w, count)) = weight
            .into_iter()
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0).then_with(|| b.0.cmp(a.0)))?;
        Some(Suggestion {
            id: id.clone(),
            category: category.to_string(),
            confidence: if total > 0.0 { w / total } else { 0.0 },
            evidence: format!("{count} of {} earlier '{key}' → {category}", self.totals[n]),
        })
    }
}

/// Suggestions for those of `targets` without a category, learned from `history`.
pub fn suggest(history: &[Transaction], targets: &[Transaction]) -> Vec<Suggestion> {
    let learned = History::learn(history);
    targets
        .iter()
        .filter(|t| uncategorised(t))
        .filter_map(|t| learned.suggest(t))
        .collect()
}
