//! The hledger-web dialect (`api/hledger-web.md`; Debian ships 1.25). hledger-web has no keys (its bind address is
//! the access control) and serves the whole journal at once: `GET /transactions` is every transaction with every
//! posting, already resolved by hledger (elided amounts inferred, balance assignments filled in). So the mirror holds
//! a complete double-entry ledger and computes balances from postings exactly as for a journal file. Quantities come
//! from `decimalMantissa`/`decimalPlaces`, read from the JSON text so a mantissa of any size is exact (one beyond
//! what a `Decimal` holds is an error naming the transaction, never a rounded value). Positive is a debit (money
//! into the account), as in a journal. Payee and note are split at the first `|`, as tally reads a journal.
//!
//! hledger-web 1.25 cannot edit existing transactions (its JSON API only adds new ones), so every edit is refused
//! with that reason. Ids hash each transaction's date, code, description and postings (with a counter for
//! identical ones), so they survive other transactions being added to the file.

use super::RestOptions;
use super::client::{Auth, CoreOptions, HttpCore, Prefix, Retry};
use super::dialect::{BatchSink, Catalog, CatalogData, Dialect, RemoteTxn, SyncScope, TxnBatch};
use super::fields::parse_error;
use crate::backend::{BackendError, Capabilities, Result, TxnPatch};
use crate::domain::{Money, Posting, PostingKind, Status, Tag, Transaction, TxnId, category_of};
use async_trait::async_trait;
use chrono::NaiveDate;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// Why nothing can be edited through hledger-web.
pub const NO_EDITS: &str = "hledger-web 1.25 cannot edit existing transactions (its JSON API only adds new ones); edit the journal itself";

#[derive(Debug)]
pub struct HledgerWeb {
    core: HttpCore,
}

#[derive(Deserialize)]
struct HwTxn {
    tindex: Option<i64>,
    tdate: String,
    #[serde(default)]
    tstatus: String,
    #[serde(default)]
    tcode: String,
    #[serde(default)]
    tdescription: String,
    #[serde(default)]
    ttags: Vec<(String, String)>,
    #[serde(default)]
    tpostings: Vec<HwPosting>,
    #[serde(default)]
    tsourcepos: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct HwPosting {
    paccount: String,
    #[serde(default)]
    pamount: Vec<HwAmount>,
    /// "RegularPosting" | "VirtualPosting" | "BalancedVirtualPosting" (renamed `preal` in later versions).
    #[serde(default)]
    ptype: Option<String>,
    #[serde(default)]
    ptags: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct HwAmount {
    #[serde(default)]
    acommodity: String,
    aquantity: HwQuantity,
    /// ≤ 1.32: `aprice`; from 1.33: `acost`.
    #[serde(default, alias = "acost")]
    aprice: Option<HwPrice>,
}

#[derive(Deserialize)]
struct HwQuantity {
    #[serde(rename = "decimalMantissa")]
    mantissa: Box<RawValue>,
    #[serde(rename = "decimalPlaces")]
    places: u32,
}

#[derive(Deserialize)]
struct HwPrice {
    tag: String,
    contents: HwCostAmount,
}

#[derive(Deserialize)]
struct HwCostAmount {
    #[serde(default)]
    acommodity: String,
    aquantity: HwQuantity,
}

impl HwQuantity {
    /// The exact decimal `mantissa × 10^-places`.
    fn decimal(&self) -> std::result::Result<Decimal, String> {
        let text = self.mantissa.get().trim().trim_matches('"');
        if text.is_empty()
            || !text
                .trim_start_matches('-')
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            return Err(format!("decimalMantissa {text} is not a whole number"));
        }
        let mut d = Decimal::from_str_exact(text).map_err(|_| {
            format!(
                "the amount {text}e-{} has more digits than tally can hold (28)",
                self.places
            )
        })?;
        if self.places > 28 {
            return Err(format!(
                "{} decimal places is more than tally can hold (28)",
                self.places
            ));
        }
        d.set_scale(self.places).map_err(|e| e.to_string())?;
        Ok(d)
    }
}

fn status(s: &str) -> Status {
    match s {
        "Cleared" => Status::Cleared,
        "Pending" => Status::Pending,
        _ => Status::Unmarked,
    }
}

fn tags(pairs: &[(String, String)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(n, v)| Tag::new(n.clone(), v.trim().to_string()))
        .collect()
}

/// `FILE:LINE` of the transaction, as a journal backend shows it.
fn source(pos: &Option<serde_json::Value>) -> String {
    let first = match pos {
        Some(serde_json::Value::Array(a)) => a.first(),
        Some(serde_json::Value::Object(o)) => o.get("contents").and_then(|c| c.get(0)),
        _ => None,
    };
    match first {
        Some(p) => format!(
            "{}:{}",
            p.get("sourceName").and_then(|v| v.as_str()).unwrap_or(""),
            p.get("sourceLine").and_then(|v| v.as_i64()).unwrap_or(0)
        ),
        None => String::new(),
    }
}

/// The postings of one hledger posting: one per commodity of its amount (a zero amount is one posting of 0).
fn postings(p: &HwPosting, place: &str) -> Result<Vec<Posting>> {
    let kind = match p.ptype.as_deref() {
        Some("VirtualPosting") => PostingKind::Virtual,
        Some("BalancedVirtualPosting") => PostingKind::BalancedVirtual,
        _ => PostingKind::Real,
    };
    let posting = |amount: Money, cost: Option<Money>| Posting {
        account: p.paccount.clone(),
        amount,
        cost,
        kind,
        account_kind: None,
        tags: tags(&p.ptags),
        comment: String::new(),
    };
    if p.pamount.is_empty() {
        return Ok(vec![posting(Money::new(Decimal::ZERO, ""), None)]);
    }
    let bad = |m: String| parse_error(place, format!("posting to {}: {m}", p.paccount));
    p.pamount
        .iter()
        .map(|a| {
            let q = a.aquantity.decimal().map_err(bad)?;
            let cost = match &a.aprice {
                Some(price) => {
                    let unit = price.contents.aquantity.decimal().map_err(bad)?;
                    // Costs are kept as totals with the amount's sign, as the journal reader keeps them.
                    let total = if price.tag == "TotalPrice" {
                        unit.abs()
                    } else {
                        (unit * q).abs()
                    };
                    let signed = if q.is_sign_negative() { -total } else { total };
                    Some(Money::new(signed, price.contents.acommodity.clone()))
                }
                None => None,
            };
            Ok(posting(Money::new(q, a.acommodity.clone()), cost))
        })
        .collect()
}

/// The id of a transaction: a hash of what it says (date, code, description, postings), so it survives other
/// transactions being added or removed; `-N` tells identical ones apart, in file order.
fn content_id(t: &Transaction, seen: &mut HashMap<u64, u32>) -> TxnId {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.write(t.date.to_string().as_bytes());
    h.write(b"\x1f");
    h.write(t.code.as_bytes());
    h.write(b"\x1f");
    h.write(t.description.as_bytes());
    for p in &t.postings {
        h.write(b"\x1e");
        h.write(p.account.as_bytes());
        h.write(b"\x1f");
        h.write(p.amount.quantity.to_string().as_bytes());
        h.write(p.amount.commodity.as_bytes());
    }
    let hash = h.finish();
    let n = seen.entry(hash).or_insert(0);
    let id = if *n == 0 {
        format!("{hash:016x}")
    } else {
        format!("{hash:016x}-{n}")
    };
    *n += 1;
    TxnId(id)
}

fn transaction(w: &HwTxn, place: &str, seen: &mut HashMap<u64, u32>) -> Result<RemoteTxn> {
    let date = NaiveDate::parse_from_str(&w.tdate, "%Y-%m-%d")
        .map_err(|_| parse_error(place, format!("tdate {:?} is not a date", w.tdate)))?;
    let mut ps = Vec::new();
    for p in &w.tpostings {
        ps.extend(postings(p, place)?);
    }
    let description = w.tdescription.trim_end().to_string();
    let (payee, note) = match description.split_once('|') {
        Some((p, n)) => (p.trim_end().to_string(), n.trim().to_string()),
        None => (description.clone(), String::new()),
    };
    let mut txn = Transaction {
        id: TxnId(String::new()),
        date,
        status: status(&w.tstatus),
        description,
        payee,
        note,
        code: w.tcode.clone(),
        tags: tags(&w.ttags),
        category: category_of(ps.iter().map(|p| p.account.as_str())).map(str::to_string),
        postings: ps,
        source: source(&w.tsourcepos),
        needs_review: None,
        read_only: false,
    };
    txn.id = content_id(&txn, seen);
    Ok(RemoteTxn {
        txn,
        order: format!("{:012}", w.tindex.unwrap_or(0).max(0)),
    })
}

impl HledgerWeb {
    pub fn new(opts: &RestOptions) -> Result<HledgerWeb> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            prefix: Prefix::Append(""),
            api_key: None,
            auth: Auth::Bearer,
            headers: Vec::new(),
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
        })?;
        Ok(HledgerWeb { core })
    }
}

#[async_trait]
impl Dialect for HledgerWeb {
    fn name(&self) -> &'static str {
        "hledger-web"
    }

    fn server(&self) -> &str {
        self.core.server()
    }

    fn http(&self) -> Option<&HttpCore> {
        Some(&self.core)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::read_only(format!("hledger-web {}", self.core.server()));
        caps.sources = true;
        caps.sync = true;
        caps.reasons = [
            "edit_status",
            "edit_tags",
            "edit_category",
            "edit_notes",
            "bulk_tag",
            "manage_tags",
        ]
        .into_iter()
        .map(|c| (c.to_string(), NO_EDITS.to_string()))
        .collect::<BTreeMap<_, _>>();
        caps
    }

    fn balances_from_postings(&self) -> bool {
        true
    }

    async fn catalog(&self) -> Result<CatalogData> {
        // Accounts, categories and tags all come from the transactions themselves.
        Ok(CatalogData::default())
    }

    async fn transactions(
        &self,
        _scope: SyncScope,
        _catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()> {
        let url = self.core.url(&["transactions"]);
        let answer = self
            .core
            .send(Method::GET, url, None, Retry::Idempotent)
            .await?;
        let place = format!("{}: GET /transactions", self.core.server());
        let list: Vec<HwTxn> = serde_json::from_slice(&answer.body).map_err(|e| {
            let text = String::from_utf8_lossy(&answer.body);
            if text.trim_start().starts_with('<') {
                parse_error(&place, "the answer is an HTML page, not hledger-web's JSON")
            } else {
                parse_error(&place, format!("not hledger-web's transaction JSON: {e}"))
            }
        })?;
        let mut seen = HashMap::new();
        let txns = list
            .iter()
            .enumerate()
            .map(|(i, w)| transaction(w, &format!("{place}: transaction {}", i + 1), &mut seen))
            .collect::<Result<Vec<_>>>()?;
        let total = txns.len();
        sink(TxnBatch {
            txns,
            total: Some(total),
        })
    }

    async fn write(&self, _id: &TxnId, _patch: &TxnPatch, _catalog: &Catalog) -> Result<RemoteTxn> {
        Err(BackendError::Unsupported(NO_EDITS.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantity(mantissa: &str, places: u32) -> HwQuantity {
        HwQuantity {
            mantissa: RawValue::from_string(mantissa.to_string()).expect("raw"),
            places,
        }
    }

    #[test]
    fn mantissas_of_any_size_are_exact_or_refused() {
        assert_eq!(
            quantity("-61240", 2).decimal().expect("q").to_string(),
            "-612.40"
        );
        assert_eq!(
            quantity("123456789012345678901234567", 2)
                .decimal()
                .expect("27 digits")
                .to_string(),
            "1234567890123456789012345.67"
        );
        let e = quantity("12345678901234567890123456789012345", 2)
            .decimal()
            .expect_err("35 digits");
        assert!(e.contains("28"), "{e}");
        assert!(quantity("1.5e3", 0).decimal().is_err());
    }

    #[test]
    fn identical_transactions_get_distinct_stable_ids() {
        let w: HwTxn = serde_json::from_str(
            r#"{"tindex":1,"tdate":"2024-01-02","tstatus":"Pending","tcode":"","tdescription":"Shop | milk",
                "ttags":[["trip","Lisbon"]],"tpostings":[{"paccount":"expenses:food","pamount":[
                {"acommodity":"$","aquantity":{"decimalMantissa":450,"decimalPlaces":2,"floatingPoint":4.5},
                 "aprice":null}],"ptype":"RegularPosting","ptags":[]},
                {"paccount":"assets:cash","pamount":[],"ptype":"RegularPosting","ptags":[]}]}"#,
        )
        .expect("json");
        let mut seen = HashMap::new();
        let a = transaction(&w, "p", &mut seen).expect("a").txn;
        let b = transaction(&w, "p", &mut seen).expect("b").txn;
        assert_ne!(a.id, b.id);
        assert!(b.id.0.ends_with("-1"));
        assert_eq!((a.payee.as_str(), a.note.as_str()), ("Shop", "milk"));
        assert_eq!(a.status, Status::Pending);
        assert_eq!(a.tags, vec![Tag::new("trip", "Lisbon")]);
        assert_eq!(a.category.as_deref(), Some("expenses:food"));
    }
}
