//! The Sure test server's deterministic data (a child module of `sure.rs`): six accounts in USD, JPY and KWD (one
//! disabled), categories with a parent, tags, merchants, and `count` transactions from a seed — monthly salary,
//! rent and interest, a quarterly Checking→Savings transfer pair, then everyday spending with refunds, ATM
//! withdrawals, tags, notes, provider ids and about 5% ties on date and creation time. Ids are drawn before any
//! transaction, so they do not depend on the count.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::super::harness::uuid;
use super::{
    DATA_DAYS, DATA_END, SureAccount, SureCategory, SureData, SureMerchant, SureTag, SureTxn,
    txn_order,
};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

fn stamp(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, s).expect("a valid time").and_utc()
}

fn data_end() -> NaiveDate {
    ymd(DATA_END.0, DATA_END.1, DATA_END.2)
}

fn data_start() -> NaiveDate {
    data_end() - chrono::Duration::days(DATA_DAYS - 1)
}

/// (name, account_type, subtype, classification, currency, status, balance cents once generated (a liability's
/// positive = owed; the opening balance is derived from it and the transactions), (institution, domain))
type AccountSpec = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<(&'static str, &'static str)>,
);

const ACCOUNTS: [AccountSpec; 6] = [
    (
        "Chase Checking",
        "depository",
        Some("checking"),
        "asset",
        "USD",
        "active",
        325_017,
        Some(("Chase", "chase.com")),
    ),
    (
        "Ally Savings",
        "depository",
        Some("savings"),
        "asset",
        "USD",
        "active",
        1_240_000,
        Some(("Ally Bank", "ally.com")),
    ),
    (
        "Amex Gold",
        "credit_card",
        None,
        "liability",
        "USD",
        "active",
        184_255,
        Some(("American Express", "americanexpress.com")),
    ),
    (
        "Tokyo Wallet",
        "depository",
        Some("checking"),
        "asset",
        "JPY",
        "active",
        84_500,
        Some(("MUFG Bank", "mufg.jp")),
    ),
    (
        "Kuwait Account",
        "depository",
        Some("savings"),
        "asset",
        "KWD",
        "active",
        412_750,
        Some(("National Bank of Kuwait", "nbk.com")),
    ),
    (
        "Old Brokerage",
        "investment",
        Some("brokerage"),
        "asset",
        "USD",
        "disabled",
        1_234_500,
        None,
    ),
];

/// (name, classification, color, icon, parent)
const CATEGORIES: [(&str, &str, &str, &str, Option<&str>); 9] = [
    ("Groceries", "expense", "#407706", "shopping-basket", None),
    ("Food & Drink", "expense", "#f97316", "utensils", None),
    (
        "Coffee Shops",
        "expense",
        "#c2410c",
        "coffee",
        Some("Food & Drink"),
    ),
    ("Rent", "expense", "#6471eb", "home", None),
    ("Transport", "expense", "#df4e92", "bus", None),
    ("Utilities", "expense", "#db5a54", "lightbulb", None),
    ("Shopping", "expense", "#e99537", "shopping-cart", None),
    ("Salary", "income", "#22c55e", "circle-dollar-sign", None),
    ("Interest", "income", "#0ea5e9", "piggy-bank", None),
];

const TAGS: [(&str, &str); 4] = [
    ("Work expense", "#3b82f6"),
    ("Vacation", "#10b981"),
    ("review", "#f59e0b"),
    ("reimbursable", "#8b5cf6"),
];

/// (merchant, category, min minor units, max minor units)
type Spend = (&'static str, &'static str, i64, i64);

const SPEND_USD: [Spend; 11] = [
    ("Starbucks", "Coffee Shops", 350, 950),
    ("Blue Bottle Coffee", "Coffee Shops", 450, 900),
    ("Whole Foods", "Groceries", 2_000, 18_000),
    ("Trader Joe's", "Groceries", 1_500, 9_000),
    ("Shell", "Transport", 2_500, 7_000),
    ("Uber", "Transport", 800, 4_500),
    ("Chipotle", "Food & Drink", 1_000, 2_500),
    ("Amazon", "Shopping", 1_000, 25_000),
    ("Target", "Shopping", 1_500, 12_000),
    ("Con Edison", "Utilities", 6_000, 18_000),
    ("Delta Air Lines", "Transport", 15_000, 60_000),
];
const SPEND_JPY: [Spend; 2] = [
    ("FamilyMart", "Food & Drink", 150, 2_500),
    ("JR East", "Transport", 200, 12_000),
];
const SPEND_KWD: [Spend; 2] = [
    ("Talabat", "Food & Drink", 1_250, 15_000),
    ("The Sultan Center", "Groceries", 3_000, 45_000),
];
const LANDLORD: &str = "Greenpoint Properties";

const NOTES: [&str; 8] = [
    "Coffee meeting",
    "Split with Sam",
    "Client dinner - reimburse",
    "Birthday gift",
    "Returned one item",
    "Weekly shop",
    "Airport ride",
    "Annual plan",
];

/// Ids of the generated reference data, by name.
struct Ids {
    accounts: HashMap<&'static str, String>,
    categories: HashMap<&'static str, String>,
    tags: Vec<String>,
    merchants: HashMap<&'static str, String>,
}

impl Ids {
    fn account(&self, name: &str) -> String {
        self.accounts.get(name).cloned().unwrap_or_default()
    }

    fn category(&self, name: &str) -> Option<String> {
        self.categories.get(name).cloned()
    }

    fn merchant(&self, name: &str) -> Option<String> {
        self.merchants.get(name).cloned()
    }
}

pub(super) fn generate(count: usize, seed: u64) -> SureData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = SureData::default();
    let ids = reference_data(&mut rng, &mut data);
    let mut txns = recurring(&mut rng, &ids, count / 3);
    let mut prev: Option<(NaiveDate, DateTime<Utc>)> = None;
    while txns.len() < count {
        let t = random_txn(&mut rng, &ids, prev);
        prev = Some((t.date, t.created_at));
        txns.push(t);
    }
    txns.sort_by(txn_order);
    data.transactions = txns;
    let computed = data.balances();
    for a in &mut data.accounts {
        // balances() took the table's figure as the opening balance; shift it so the figure is the current balance.
        let moved = computed.get(&a.id).copied().unwrap_or(0) - a.opening_balance_cents;
        a.opening_balance_cents -= moved;
    }
    data
}

/// Accounts, categories, tags and merchants (ids drawn first, so they do not depend on the transaction count).
fn reference_data(rng: &mut ChaCha8Rng, data: &mut SureData) -> Ids {
    let created = stamp(ymd(2024, 10, 1), 9, 0, 0);
    let mut ids = Ids {
        accounts: HashMap::new(),
        categories: HashMap::new(),
        tags: Vec::new(),
        merchants: HashMap::new(),
    };
    for (name, kind, subtype, class, currency, status, opening, inst) in ACCOUNTS {
        let id = uuid(rng);
        ids.accounts.insert(name, id.clone());
        data.accounts.push(SureAccount {
            id,
            name: name.to_string(),
            account_type: kind.to_string(),
            subtype: subtype.map(str::to_string),
            classification: class.to_string(),
            currency: currency.to_string(),
            status: status.to_string(),
            opening_balance_cents: opening,
            institution_name: inst.map(|i| i.0.to_string()),
            institution_domain: inst.map(|i| i.1.to_string()),
            created_at: created,
            updated_at: created,
        });
    }
    for (name, class, color, icon, parent) in CATEGORIES {
        let id = uuid(rng);
        ids.categories.insert(name, id.clone());
        data.categories.push(SureCategory {
            id,
            name: name.to_string(),
            classification: class.to_string(),
            color: color.to_string(),
            icon: icon.to_string(),
            parent_id: parent.and_then(|p| ids.category(p)),
            created_at: created,
            updated_at: created,
        });
    }
    for (name, color) in TAGS {
        let id = uuid(rng);
        ids.tags.push(id.clone());
        let made = stamp(ymd(2024, 11, 1), 12, 0, 0);
        data.tags.push(SureTag {
            id,
            name: name.to_string(),
            color: color.to_string(),
            created_at: made,
            updated_at: made,
        });
    }
    let spends = SPEND_USD.iter().chain(&SPEND_JPY).chain(&SPEND_KWD);
    for name in spends.map(|s| s.0).chain([LANDLORD]) {
        let id = uuid(rng);
        ids.merchants.insert(name, id.clone());
        let kind = if name == LANDLORD {
            "FamilyMerchant"
        } else {
            "ProviderMerchant"
        };
        data.merchants.push(SureMerchant {
            id,
            name: name.to_string(),
            kind: kind.to_string(),
        });
    }
    ids
}

/// A bare transaction; the caller fills in category, merchant and the rest.
fn base_txn(
    rng: &mut ChaCha8Rng,
    date: NaiveDate,
    cents: i64,
    account: (&str, &str),
    name: &str,
) -> SureTxn {
    let created = stamp(
        date,
        rng.random_range(7..23),
        rng.random_range(0..60),
        rng.random_range(0..60),
    );
    SureTxn {
        id: uuid(rng),
        date,
        amount_cents: cents,
        currency: account.1.to_string(),
        name: name.to_string(),
        notes: None,
        account_id: account.0.to_string(),
        category_id: None,
        merchant_id: None,
        tag_ids: Vec::new(),
        transfer: None,
        transfer_id: None,
        external_id: None,
        source: None,
        created_at: created,
        updated_at: created,
    }
}

/// Monthly salary and rent (the 1st), interest (the 28th) and, every third month, a $500 Checking→Savings transfer
/// (two transactions, the 15th), newest month first, while they fit in `budget`.
fn recurring(rng: &mut ChaCha8Rng, ids: &Ids, budget: usize) -> Vec<SureTxn> {
    let (start, end) = (data_start(), data_end());
    let checking = ids.account("Chase Checking");
    let savings = ids.account("Ally Savings");
    let mut out: Vec<SureTxn> = Vec::new();
    let (mut year, mut month) = (DATA_END.0, DATA_END.1);
    for k in 0..25u32 {
        let in_range = |d: NaiveDate| d >= start && d <= end;
        let first = ymd(year, month, 1);
        if in_range(first) && out.len() < budget {
            let mut t = base_txn(
                rng,
                first,
                -480_000,
                (&checking, "USD"),
                "ACME Corp Payroll",
            );
            t.category_id = ids.category("Salary");
            out.push(t);
        }
        if in_range(first) && out.len() < budget {
            let mut t = base_txn(
                rng,
                first,
                210_000,
                (&checking, "USD"),
                "Rent - Greenpoint Properties",
            );
            t.category_id = ids.category("Rent");
            t.merchant_id = ids.merchant(LANDLORD);
            out.push(t);
        }
        let day28 = ymd(year, month, 28);
        if in_range(day28) && out.len() < budget {
            let cents = -rng.random_range(800..4_000);
            let mut t = base_txn(rng, day28, cents, (&savings, "USD"), "Interest Payment");
            t.category_id = ids.category("Interest");
            out.push(t);
        }
        let day15 = ymd(year, month, 15);
        if k % 3 == 0 && in_range(day15) && out.len() + 2 <= budget {
            out.extend(transfer_pair(rng, day15, (&checking, &savings)));
        }
        (year, month) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
    }
    out
}

/// Both sides of a $500 transfer `from` → `to`, with the same created_at.
fn transfer_pair(rng: &mut ChaCha8Rng, date: NaiveDate, (from, to): (&str, &str)) -> [SureTxn; 2] {
    let transfer_id = uuid(rng);
    let mut out = base_txn(rng, date, 50_000, (from, "USD"), "Transfer to Ally Savings");
    let mut inn = base_txn(
        rng,
        date,
        -50_000,
        (to, "USD"),
        "Transfer from Chase Checking",
    );
    inn.created_at = out.created_at;
    inn.updated_at = out.updated_at;
    out.transfer = Some(to.to_string());
    inn.transfer = Some(from.to_string());
    out.transfer_id = Some(transfer_id.clone());
    inn.transfer_id = Some(transfer_id);
    [out, inn]
}

/// One everyday transaction: mostly card and checking spending with a merchant and category; some ATM
/// withdrawals (no merchant, no category), refunds (income), JPY and KWD spending, tags and notes. About 5% copy
/// the previous one's date and created_at, so ties are ordered by id.
fn random_txn(
    rng: &mut ChaCha8Rng,
    ids: &Ids,
    prev: Option<(NaiveDate, DateTime<Utc>)>,
) -> SureTxn {
    let offset = rng.random_range(0..DATA_DAYS);
    let date = data_start() + chrono::Duration::days(offset);
    let (account, currency, pool): (&str, &str, &[Spend]) = match rng.random_range(0..100) {
        0..50 => ("Chase Checking", "USD", &SPEND_USD),
        50..85 => ("Amex Gold", "USD", &SPEND_USD),
        85..93 => ("Tokyo Wallet", "JPY", &SPEND_JPY),
        93..98 => ("Kuwait Account", "KWD", &SPEND_KWD),
        _ => ("Ally Savings", "USD", &SPEND_USD),
    };
    let account_id = ids.account(account);
    let (merchant, category, lo, hi) = pool[rng.random_range(0..pool.len())];
    let roll = rng.random_range(0..100);
    let mut t = if roll < 3 && account == "Chase Checking" {
        let cents = rng.random_range(1..11) * 2_000;
        base_txn(rng, date, cents, (&account_id, currency), "ATM Withdrawal")
    } else {
        let refund = roll >= 97 && currency == "USD";
        let cents = rng.random_range(lo..=hi) * if refund { -1 } else { 1 };
        let name = if refund {
            format!("Refund: {merchant}")
        } else {
            merchant.to_string()
        };
        let mut t = base_txn(rng, date, cents, (&account_id, currency), &name);
        t.merchant_id = ids.merchant(merchant);
        t.category_id = if rng.random_bool(0.05) {
            None
        } else {
            ids.category(category)
        };
        t
    };
    if let Some((d, created)) = prev.filter(|_| rng.random_bool(0.05)) {
        t.date = d;
        t.created_at = created;
        t.updated_at = created;
    }
    decorate(rng, ids, &mut t, account);
    t
}

/// Tags (15%: one, 5%: two), notes (12%) and, for the US accounts, a provider's external id.
fn decorate(rng: &mut ChaCha8Rng, ids: &Ids, t: &mut SureTxn, account: &str) {
    let roll = rng.random_range(0..100);
    let wanted = match roll {
        0..15 => 1,
        15..20 => 2,
        _ => 0,
    };
    while t.tag_ids.len() < wanted {
        let tag = ids.tags[rng.random_range(0..ids.tags.len())].clone();
        if !t.tag_ids.contains(&tag) {
            t.tag_ids.push(tag);
        }
    }
    if rng.random_bool(0.12) {
        t.notes = Some(NOTES[rng.random_range(0..NOTES.len())].to_string());
    }
    if account == "Chase Checking" || account == "Amex Gold" {
        let ext: u64 = rng.random();
        t.external_id = Some(format!("plaid_{ext:016x}"));
        t.source = Some("plaid".to_string());
    }
}
