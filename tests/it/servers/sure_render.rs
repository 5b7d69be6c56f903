//! How the Sure test server writes things (a child module of `sure.rs`): jbuilder timestamps, `Money#format`
//! amount strings in English or German, and the JSON of accounts, transactions (with the transfer object), tags and
//! categories; plus the name order PostgreSQL would give.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Lang, SureAccount, SureCategory, SureData, SureTag, SureTxn, minor_digits};

/// `created_at.iso8601` as the jbuilder views write it: seconds, `Z`.
pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Time rendered by `render json:` (tags, usage): milliseconds, `Z`.
pub(super) fn rails_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Money#format: "$1,234.56", "-$4,800.00", "¥1,200", "KWD 1.250"; German: "1.234,56 $", "1.200 ¥", "1,250 KWD".
pub fn format_money(cents: i64, currency: &str, german: bool) -> String {
    let digits = minor_digits(currency);
    let factor = 10u64.pow(digits);
    let abs = cents.unsigned_abs();
    let (whole, frac) = (abs / factor, abs % factor);
    let (delimiter, separator) = if german { ('.', ',') } else { (',', '.') };
    let raw = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i) % 3 == 0 {
            grouped.push(delimiter);
        }
        grouped.push(ch);
    }
    let number = if digits == 0 {
        grouped
    } else {
        format!(
            "{grouped}{separator}{frac:0width$}",
            width = digits as usize
        )
    };
    let sign = if cents < 0 { "-" } else { "" };
    let symbol = match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        other => other,
    };
    if german {
        format!("{sign}{number} {symbol}")
    } else if symbol.chars().count() == 1 {
        format!("{sign}{symbol}{number}")
    } else {
        format!("{sign}{symbol} {number}")
    }
}

pub(super) fn money(cents: i64, currency: &str, lang: Lang) -> String {
    format_money(cents, currency, lang == Lang::De)
}

pub(super) fn account_ref(d: &SureData, account_id: &str) -> Value {
    match d.account(account_id) {
        Some(a) => json!({"id": a.id, "name": a.name, "account_type": a.account_type}),
        None => json!({"id": account_id, "name": null, "account_type": null}),
    }
}

pub(super) fn account_json(a: &SureAccount, balance: i64, lang: Lang) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "balance": money(balance, &a.currency, lang),
        "balance_cents": balance,
        "cash_balance": money(balance, &a.currency, lang),
        "cash_balance_cents": balance,
        "currency": a.currency,
        "classification": a.classification,
        "account_type": a.account_type,
        "subtype": a.subtype,
        "status": a.status,
        "institution_name": a.institution_name,
        "institution_domain": a.institution_domain,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
    })
}

pub(super) fn txn_json(d: &SureData, t: &SureTxn, lang: Lang) -> Value {
    let category = t
        .category_id
        .as_deref()
        .and_then(|id| d.category(id))
        .map(|c| json!({"id": c.id, "name": c.name, "color": c.color, "icon": c.icon}));
    let merchant = t
        .merchant_id
        .as_deref()
        .and_then(|id| d.merchant(id))
        .map(|m| json!({"id": m.id, "name": m.name}));
    let tags: Vec<Value> = t
        .tag_ids
        .iter()
        .filter_map(|id| d.tag(id))
        .map(|g| json!({"id": g.id, "name": g.name, "color": g.color}))
        .collect();
    json!({
        "id": t.id,
        "date": t.date.format("%Y-%m-%d").to_string(),
        "amount": money(t.amount_cents, &t.currency, lang),
        "amount_cents": t.amount_cents.abs(),
        "signed_amount_cents": -t.amount_cents,
        "currency": t.currency,
        "name": t.name,
        "notes": t.notes,
        "classification": t.classification(),
        "account": account_ref(d, &t.account_id),
        "category": category,
        "merchant": merchant,
        "tags": tags,
        "transfer": transfer_json(d, t, lang),
        "external_id": t.external_id,
        "source": t.source,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    })
}

/// `{id, amount (the inflow side's absolute amount, formatted), currency, other_account}` or null.
pub(super) fn transfer_json(d: &SureData, t: &SureTxn, lang: Lang) -> Value {
    let Some(other_account) = t.transfer.as_deref() else {
        return Value::Null;
    };
    let other = t.transfer_id.as_deref().and_then(|tid| {
        d.transactions
            .iter()
            .find(|o| o.id != t.id && o.transfer_id.as_deref() == Some(tid))
    });
    let inflow = match other {
        Some(o) if t.amount_cents >= 0 => o,
        _ => t,
    };
    let other_account_id = other.map_or(other_account, |o| o.account_id.as_str());
    json!({
        "id": t.transfer_id.clone().unwrap_or_else(|| t.id.clone()),
        "amount": money(inflow.amount_cents.abs(), &inflow.currency, lang),
        "currency": inflow.currency,
        "other_account": account_ref(d, other_account_id),
    })
}

pub(super) fn tag_json(t: &SureTag) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "color": t.color,
        "created_at": rails_time(t.created_at),
        "updated_at": rails_time(t.updated_at),
    })
}

pub(super) fn category_json(d: &SureData, c: &SureCategory) -> Value {
    let parent = c
        .parent_id
        .as_deref()
        .map(|pid| json!({"id": pid, "name": d.category(pid).map(|p| p.name.clone())}));
    let subs = d
        .categories
        .iter()
        .filter(|s| s.parent_id.as_deref() == Some(c.id.as_str()))
        .count();
    json!({
        "id": c.id,
        "name": c.name,
        "classification": c.classification,
        "color": c.color,
        "icon": c.icon,
        "parent": parent,
        "subcategories_count": subs,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    })
}

/// PostgreSQL's en_US ordering, near enough: case-insensitive, then as written.
pub(super) fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
}
