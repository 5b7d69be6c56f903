//! A record's postings, as hledger 1.25's CSV reader makes them from the assigned fields. Posting N (1 to 99) exists
//! when `accountN` is assigned something other than nothing, or — `accountN` unassigned — when it has an amount or a
//! balance; then its account is `expenses:unknown`, or `income:unknown` when its amount is negative. Its amount is
//! the one non-empty, non-zero value among `amountN`, `amountN-in`, `amountN-out` (negated); postings 1 and 2 also
//! read the legacy `amount`/`amount-in`/`amount-out` unless a numbered one is assigned, posting 2 negating it at
//! cost, and not when account1 is a `(virtual)` one. `currencyN` (else `currency`) goes in front of the amount and
//! balance; `balanceN` (`balance` for 1) is a balance assertion of `balance-type`, or a balance assignment on a
//! posting without an amount; `commentN` is the posting's comment (`\n` a new line). `(account)` and `[account]`
//! make virtual and balanced virtual postings. A posting without an amount is hledger's to infer; like hledger, a
//! transaction whose real (or balanced virtual) postings do not balance is an error.

use super::amount::{self, Amount};
use super::reader::{Assertion, ImportedPosting};
use super::rules::{Rules, posting_number};
use crate::domain::PostingKind;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// The hledger fields of one record, after every rule (templates rendered, outer spaces trimmed).
pub type Assigned = HashMap<String, String>;

/// (field, message) for a CSV problem.
pub type FieldError = (String, String);

const UNNUMBERED: [&str; 3] = ["amount", "amount-in", "amount-out"];

/// The postings of one record.
pub fn postings(rules: &Rules, f: &Assigned) -> Result<Vec<ImportedPosting>, FieldError> {
    let get = |name: &str| f.get(name).map(String::as_str);
    let first_virtual = get("account1").is_some_and(|a| a.starts_with('(') && a.ends_with(')'));
    let mut out = Vec::new();
    let last = f
        .keys()
        .filter_map(|k| posting_number(k))
        .max()
        .unwrap_or(0);
    for n in 1..=last.max(2) {
        let currency = get(&format!("currency{n}"))
            .or(get("currency"))
            .unwrap_or("");
        let legacy = n == 1 || (n == 2 && !first_virtual);
        let amount = posting_amount(rules, f, (n, legacy), currency)?;
        let balance = posting_balance(rules, f, n, currency)?;
        let account = match get(&format!("account{n}")) {
            Some("") => continue,
            Some(a) => a.to_string(),
            None if amount.is_none() && balance.is_none() => continue,
            None if amount.as_ref().is_some_and(|a| a.quantity < Decimal::ZERO) => {
                "income:unknown".into()
            }
            None => "expenses:unknown".into(),
        };
        let (kind, account) = posting_kind(&account);
        let comment = get(&format!("comment{n}"))
            .unwrap_or("")
            .replace("\\n", "\n");
        let inferred = amount.is_none();
        let Amount {
            currency,
            quantity,
            cost,
        } = amount.unwrap_or_default();
        out.push(ImportedPosting {
            account,
            currency,
            quantity,
            balance,
            kind,
            cost,
            comment,
            inferred,
        });
    }
    Ok(out)
}

/// A field's value as an amount: signs simplified, `currency` in front, `decimal-mark` applied.
pub fn parse_amount(rules: &Rules, currency: &str, value: &str) -> Result<Amount, String> {
    let text = format!("{currency}{}", amount::simplify_sign(value));
    amount::parse(&text, rules.decimal_mark)
        .map_err(|_| format!("could not parse {value:?} as an amount (with currency {currency:?})"))
}

/// Posting `n`'s amount, from `amountN`, `amountN-in`, `amountN-out` and (`legacy`) the unnumbered ones.
fn posting_amount(
    rules: &Rules,
    f: &Assigned,
    (n, legacy): (usize, bool),
    currency: &str,
) -> Result<Option<Amount>, FieldError> {
    let numbered = [
        format!("amount{n}"),
        format!("amount{n}-in"),
        format!("amount{n}-out"),
    ];
    let names = numbered
        .iter()
        .map(String::as_str)
        .chain(UNNUMBERED.into_iter().filter(|_| legacy));
    let mut given: Vec<(&str, Amount)> = Vec::new();
    for name in names {
        let Some(value) = f.get(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut a = parse_amount(rules, currency, value).map_err(|m| (name.to_string(), m))?;
        if n == 2 && UNNUMBERED.contains(&name) {
            // The legacy fields give posting 2 the negated cost of posting 1's amount.
            let (currency, quantity) = a.at_cost();
            a = Amount {
                currency,
                quantity: -quantity,
                cost: None,
            };
        }
        given.push((name, a));
    }
    if given.iter().any(|(name, _)| !UNNUMBERED.contains(name)) {
        given.retain(|(name, _)| !UNNUMBERED.contains(name));
    }
    let nonzero: Vec<_> = given
        .iter()
        .filter(|(_, a)| !a.quantity.is_zero())
        .collect();
    let chosen = if nonzero.is_empty() {
        given.iter().take(1).collect()
    } else {
        nonzero
    };
    match chosen.as_slice() {
        [] => Ok(None),
        [(name, a)] if name.ends_with("-out") => Ok(Some(Amount {
            quantity: -a.quantity,
            ..a.clone()
        })),
        [(_, a)] => Ok(Some(a.clone())),
        several => {
            let names: Vec<&str> = several.iter().map(|(name, _)| *name).collect();
            Err((
                names[0].to_string(),
                format!(
                    "posting {n} has several non-zero (or several zero) amounts: {}; give just one",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Posting `n`'s balance assertion, from `balanceN` (or `balance` for posting 1).
fn posting_balance(
    rules: &Rules,
    f: &Assigned,
    n: usize,
    currency: &str,
) -> Result<Option<Assertion>, FieldError> {
    let name = format!("balance{n}");
    let (name, value) = match f.get(&name) {
        Some(v) => (name, v),
        None if n == 1 && f.contains_key("balance") => ("balance".to_string(), &f["balance"]),
        None => return Ok(None),
    };
    if value.is_empty() {
        return Ok(None);
    }
    let amount = parse_amount(rules, currency, value).map_err(|m| (name, m))?;
    Ok(Some(Assertion {
        amount,
        kind: rules.balance_type,
    }))
}

/// `(account)` is virtual, `[account]` balanced virtual.
fn posting_kind(account: &str) -> (PostingKind, String) {
    let inner = |open: char, close: char| {
        account
            .strip_prefix(open)
            .and_then(|a| a.strip_suffix(close))
    };
    if let Some(a) = inner('(', ')') {
        (PostingKind::Virtual, a.to_string())
    } else if let Some(a) = inner('[', ']') {
        (PostingKind::BalancedVirtual, a.to_string())
    } else {
        (PostingKind::Real, account.to_string())
    }
}

/// hledger's check that real postings balance, and balanced virtual ones: at most one without an amount (which
/// is then inferred: its `quantity` set when one commodity balances the rest), else sums of zero at cost — or two
/// commodities of opposite sign and no cost, for which hledger infers one. A balance assignment leaves the amounts
/// to the journal, so such a transaction is not checked here.
pub fn balance(postings: &mut [ImportedPosting]) -> Result<(), String> {
    if postings.iter().any(|p| p.inferred && p.balance.is_some()) {
        return Ok(());
    }
    for (kind, what) in [
        (PostingKind::Real, "real"),
        (PostingKind::BalancedVirtual, "balanced virtual"),
    ] {
        let mut group: Vec<&mut ImportedPosting> =
            postings.iter_mut().filter(|p| p.kind == kind).collect();
        let residual = residual(&group);
        let mut missing = group.iter_mut().filter(|p| p.inferred);
        match (missing.next(), missing.next()) {
            (Some(_), Some(_)) => {
                return Err(format!("more than one {what} posting without an amount"));
            }
            (Some(p), None) => {
                if let [(currency, q)] = residual.as_slice() {
                    p.currency = currency.clone();
                    p.quantity = -*q;
                }
            }
            (None, _) => {
                let signs = |positive: bool| {
                    group
                        .iter()
                        .any(|p| !p.quantity.is_zero() && p.quantity.is_sign_positive() == positive)
                };
                let implied_cost = residual.len() == 2
                    && group.iter().all(|p| p.cost.is_none())
                    && signs(true)
                    && signs(false);
                if !residual.is_empty() && !implied_cost {
                    let sum: Vec<String> =
                        residual.iter().map(|(c, q)| amount::money(c, *q)).collect();
                    return Err(format!(
                        "{what} postings' sum should be 0 but is {}",
                        sum.join(", ")
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The non-zero sums by commodity at cost, each rounded to the most decimal places its amounts show.
fn residual(group: &[&mut ImportedPosting]) -> Vec<(String, Decimal)> {
    let mut sums: BTreeMap<String, (Decimal, Option<u32>)> = BTreeMap::new();
    for p in group.iter().filter(|p| !p.inferred) {
        let amount = Amount {
            currency: p.currency.clone(),
            quantity: p.quantity,
            cost: p.cost.clone(),
        };
        let (currency, q) = amount.at_cost();
        let entry = sums.entry(currency).or_default();
        entry.0 += q;
        let places = entry.1.unwrap_or(0).max(p.quantity.scale());
        if p.cost.is_none() {
            entry.1 = Some(places);
        }
    }
    sums.into_iter()
        .map(|(c, (q, places))| (c, places.map_or(q, |dp| q.round_dp(dp))))
        .filter(|(_, q)| !q.is_zero())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn assigned(pairs: &[(&str, &str)]) -> Assigned {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn accounts(ps: &[ImportedPosting]) -> Vec<(String, String)> {
        ps.iter()
            .map(|p| {
                let amount = if p.inferred {
                    String::new()
                } else {
                    amount::money(&p.currency, p.quantity)
                };
                (p.account.clone(), amount)
            })
            .collect()
    }

    fn rules(text: &str) -> Rules {
        Rules::parse(Path::new("t.rules"), text).expect("rules")
    }

    #[test]
    fn which_postings_exist() {
        let r = rules("fields date, amount\naccount1 a\namount3 1\n");
        let ps = postings(&r, &assigned(&[("account1", "a"), ("amount", "-10")])).expect("ok");
        let s = |a: &str, m: &str| (a.to_string(), m.to_string());
        assert_eq!(accounts(&ps), [s("a", "-10"), s("expenses:unknown", "10")]);
        let f = assigned(&[("account1", "a"), ("amount2", "-3"), ("amount3", "1")]);
        let ps = postings(&r, &f).expect("ok");
        assert_eq!(
            accounts(&ps),
            [
                s("a", ""),
                s("income:unknown", "-3"),
                s("expenses:unknown", "1")
            ]
        );
        let f = assigned(&[("account1", ""), ("account2", "b"), ("amount", "5")]);
        assert_eq!(accounts(&postings(&r, &f).expect("ok")), [s("b", "-5")]);
        let f = assigned(&[("account1", "(a)"), ("amount", "5")]);
        let ps = postings(&r, &f).expect("ok");
        assert_eq!(accounts(&ps), [s("a", "5")]);
        assert_eq!(ps[0].kind, PostingKind::Virtual);
    }

    #[test]
    fn numbered_amounts_replace_the_legacy_ones() {
        let r = rules("fields date, amount\n");
        let f = assigned(&[("account1", "a"), ("amount", "5"), ("amount1", "7")]);
        let ps = postings(&r, &f).expect("ok");
        assert_eq!(ps[0].quantity, Decimal::from(7));
        assert_eq!(ps[1].quantity, Decimal::from(-5));
        let f = assigned(&[("amount1-in", "0"), ("amount1-out", "4")]);
        assert_eq!(postings(&r, &f).expect("ok")[0].quantity, Decimal::from(-4));
        let f = assigned(&[("amount1-in", "3"), ("amount1-out", "4")]);
        assert!(postings(&r, &f).is_err());
    }

    #[test]
    fn unbalanced_postings_are_an_error() {
        let r = rules("fields date, amount\n");
        let f = assigned(&[
            ("account1", "a"),
            ("amount1", "5"),
            ("account2", "b"),
            ("amount2", "-4"),
        ]);
        let mut ps = postings(&r, &f).expect("ok");
        assert!(balance(&mut ps).is_err());
        let f = assigned(&[
            ("account1", "a"),
            ("amount1", "5 EUR @ 1.1 USD"),
            ("account2", "b"),
        ]);
        let mut ps = postings(&r, &f).expect("ok");
        balance(&mut ps).expect("balances");
        assert_eq!(amount::money(&ps[1].currency, ps[1].quantity), "USD-5.5");
        let f = assigned(&[
            ("account1", "a"),
            ("account2", "b"),
            ("account3", "c"),
            ("amount1", "1"),
        ]);
        assert!(balance(&mut postings(&r, &f).expect("ok")).is_err());
    }
}
