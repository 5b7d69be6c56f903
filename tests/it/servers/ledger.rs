//! The household behind the FinWise, Fin X and Synci test servers: API-neutral accounts and money movements,
//! generated deterministically from a seed, that each server dresses in its own API's shape (ids, signs, field
//! names). Two years of data ending 2026-11-15: a monthly salary, regular monthly bills from the same payee with the
//! same or a similar amount (rent, Netflix, Spotify, electricity, a EUR phone bill) so recurring-payment detection
//! has something to find, transfers to savings, interest, and everyday spending (groceries, dining, transport,
//! shopping) with bank-style raw texts next to the cleaned payee, a few refunds and ATM withdrawals, and about 5%
//! of movements sharing the previous one's date and creation time so ties are ordered by id. With `hostile`, some
//! payees, raw texts, a note and an account name carry terminal escapes and other text a display must not trust.
#![allow(dead_code)]

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The last day of generated data.
pub const DATA_END: (i32, u32, u32) = (2026, 11, 15);
/// Generated data spans this many days, ending on [`DATA_END`].
pub const DATA_DAYS: i64 = 730;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Checking,
    Savings,
    /// A credit card: its balance is negative while money is owed.
    Card,
    Investment,
}

/// An account as the household sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub name: String,
    pub kind: Kind,
    /// ISO code, upper case.
    pub currency: &'static str,
    pub institution: &'static str,
    /// The last four digits of the card or account number (raw texts quote them).
    pub last4: &'static str,
    /// The current balance in minor units from the holder's side (negative on a card = owed).
    pub balance_cents: i64,
}

/// An account to generate: (name, kind, currency, institution, last four digits, current balance in cents).
pub type Spec = (
    &'static str,
    Kind,
    &'static str,
    &'static str,
    &'static str,
    i64,
);

pub const CHECKING: Spec = (
    "Everyday Checking",
    Kind::Checking,
    "USD",
    "Chase",
    "4821",
    325_017,
);
pub const SAVINGS: Spec = (
    "High-Yield Savings",
    Kind::Savings,
    "USD",
    "Ally Bank",
    "7730",
    1_240_000,
);
pub const CARD: Spec = (
    "Sapphire Card",
    Kind::Card,
    "USD",
    "Chase",
    "1234",
    -184_255,
);
pub const EURO: Spec = ("Girokonto", Kind::Checking, "EUR", "N26", "5512", 231_040);
pub const BROKERAGE: Spec = (
    "Brokerage",
    Kind::Investment,
    "USD",
    "Fidelity",
    "0918",
    2_512_300,
);

/// One movement of money on one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Index into [`Ledger::accounts`].
    pub account: usize,
    pub date: NaiveDate,
    /// When the bank reported it (on `date`).
    pub created_at: DateTime<Utc>,
    /// Minor units from the holder's side: negative = money out.
    pub cents: i64,
    pub currency: &'static str,
    /// The cleaned payee or payer ("Netflix", "ACME Corp").
    pub payee: String,
    /// The bank's raw text ("CARD 1234 NETFLIX.COM 866-579-7172 CA").
    pub raw: String,
    /// The counterparty's legal name as a bank reports it, when it does.
    pub counterparty: Option<String>,
    pub category: Option<&'static str>,
    pub recurring: bool,
    /// One side of a transfer between the household's own accounts.
    pub transfer: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    pub accounts: Vec<Account>,
    /// Newest first (date, then created_at).
    pub entries: Vec<Entry>,
}

/// Category names the entries use.
pub const CATEGORIES: [&str; 11] = [
    "Groceries",
    "Dining",
    "Rent",
    "Utilities",
    "Subscriptions",
    "Transport",
    "Shopping",
    "Cash",
    "Salary",
    "Interest",
    "Transfers",
];

/// The hostile texts: ANSI colour, an OSC title change, an OSC 52 clipboard write, a right-to-left override,
/// newlines and tabs, a zero-width joiner, and a 300-character name.
pub fn hostile_texts() -> Vec<String> {
    let long: String = "Extremely Long Merchant Name Incorporated "
        .chars()
        .cycle()
        .take(300)
        .collect();
    vec![
        "\x1b[31mRED ALERT\x1b[0m Coffee".to_string(),
        "Streaming\x1b]0;pwned\x07 Service".to_string(),
        "Clip\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07board Store".to_string(),
        "\u{202E}Refund gnp.exe".to_string(),
        "Multi\nLine\tPayee".to_string(),
        "Family \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} Dinner".to_string(),
        long,
    ]
}

/// The hostile account name (the second account gets it).
pub const HOSTILE_ACCOUNT: &str = "Savings \x1b[1;31m(LOCKED)\x1b[0m\u{202E}";
/// The hostile note (the newest entry gets it).
pub const HOSTILE_NOTE: &str = "note\x1b[2J with a clear-screen,\na newline\tand a tab";

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

pub fn data_end() -> NaiveDate {
    ymd(DATA_END.0, DATA_END.1, DATA_END.2)
}

pub fn data_start() -> NaiveDate {
    data_end() - chrono::Duration::days(DATA_DAYS - 1)
}

pub fn stamp(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, s).expect("a valid time").and_utc()
}

/// `count` entries on the `specs` accounts from `seed`: up to half are the monthly recurring ones (newest months
/// first), the rest everyday spending. The same arguments give the same ledger.
pub fn generate(specs: &[Spec], count: usize, seed: u64, hostile: bool) -> Ledger {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let accounts: Vec<Account> = specs
        .iter()
        .map(
            |&(name, kind, currency, institution, last4, balance_cents)| Account {
                name: name.to_string(),
                kind,
                currency,
                institution,
                last4,
                balance_cents,
            },
        )
        .collect();
    let mut entries = recurring(&mut rng, &accounts, count / 2);
    let mut prev: Option<(NaiveDate, DateTime<Utc>)> = None;
    while entries.len() < count {
        let e = everyday(&mut rng, &accounts, prev);
        prev = Some((e.date, e.created_at));
        entries.push(e);
    }
    entries.sort_by(|a, b| b.date.cmp(&a.date).then(b.created_at.cmp(&a.created_at)));
    let mut ledger = Ledger { accounts, entries };
    if hostile {
        make_hostile(&mut ledger);
    }
    ledger
}

fn make_hostile(ledger: &mut Ledger) {
    let texts = hostile_texts();
    let n = ledger.entries.len();
    if n > 0 {
        for (k, text) in texts.iter().enumerate() {
            let e = &mut ledger.entries[k * n / texts.len()];
            e.payee = text.clone();
            e.raw = text.clone();
            e.counterparty = Some(text.clone());
        }
        ledger.entries[0].note = Some(HOSTILE_NOTE.to_string());
    }
    if let Some(a) = ledger.accounts.get_mut(1) {
        a.name = HOSTILE_ACCOUNT.to_string();
    }
}

fn find(accounts: &[Account], pred: impl Fn(&Account) -> bool) -> Option<usize> {
    accounts.iter().position(pred)
}

/// The accounts the monthly movements use.
struct Roles {
    checking: usize,
    savings: Option<usize>,
    /// Where subscriptions are charged: the card, else checking.
    subscriptions: usize,
    euro: Option<usize>,
    investment: Option<usize>,
}

fn roles(accounts: &[Account]) -> Roles {
    let checking = find(accounts, |a| {
        a.kind == Kind::Checking && a.currency == "USD"
    })
    .unwrap_or(0);
    Roles {
        checking,
        savings: find(accounts, |a| a.kind == Kind::Savings),
        subscriptions: find(accounts, |a| a.kind == Kind::Card).unwrap_or(checking),
        euro: find(accounts, |a| a.currency == "EUR"),
        investment: find(accounts, |a| a.kind == Kind::Investment),
    }
}

/// A movement with a random time of day on `date`; the caller adds category and the rest.
fn entry(
    rng: &mut ChaCha8Rng,
    accounts: &[Account],
    account: usize,
    date: NaiveDate,
    cents: i64,
    (payee, raw): (&str, &str),
) -> Entry {
    let created_at = stamp(
        date,
        rng.random_range(6..23),
        rng.random_range(0..60),
        rng.random_range(0..60),
    );
    Entry {
        account,
        date,
        created_at,
        cents,
        currency: accounts[account].currency,
        payee: payee.to_string(),
        raw: raw.to_string(),
        counterparty: None,
        category: None,
        recurring: false,
        transfer: false,
        note: None,
    }
}

/// One monthly movement: (account, day of month, cents, payee, raw text, counterparty, category).
type Monthly = (
    usize,
    u32,
    i64,
    &'static str,
    String,
    Option<&'static str>,
    &'static str,
);

/// This month's recurring movements, in a fixed order.
#[rustfmt::skip]
fn month_plan(rng: &mut ChaCha8Rng, a: &[Account], r: &Roles, first: NaiveDate) -> Vec<Monthly> {
    let chk = a[r.checking].last4;
    let card = a[r.subscriptions].last4;
    let netflix = if first < ymd(2025, 6, 1) { -1_549 } else { -1_799 };
    let mut plan: Vec<Monthly> = vec![
        (r.checking, 1, -185_000, "Greenpoint Properties",
         "ONLINE PMT GREENPOINT PROPERTIES LLC RENT".to_string(), Some("GREENPOINT PROPERTIES LLC"), "Rent"),
        (r.subscriptions, 5, -1_099, "Spotify", format!("CARD {card} SPOTIFY USA 877-7781161 NY"),
         Some("SPOTIFY USA INC"), "Subscriptions"),
        (r.subscriptions, 12, netflix, "Netflix", format!("CARD {card} NETFLIX.COM 866-579-7172 CA"),
         Some("NETFLIX INC"), "Subscriptions"),
        (r.checking, 20, -rng.random_range(6_000..14_000), "Con Edison",
         format!("POS DEBIT {chk} CON ED OF NY BILL PAYMENT"), Some("CONSOLIDATED EDISON CO OF NY"), "Utilities"),
        (r.checking, 25, 425_000, "ACME Corp", "ACME CORP PAYROLL PPD ID: 9876543210".to_string(),
         Some("ACME CORPORATION"), "Salary"),
    ];
    if let Some(s) = r.savings {
        plan.push((s, 28, rng.random_range(800..4_000), "Ally Bank", "INTEREST PAYMENT".to_string(),
                   Some("ALLY BANK"), "Interest"));
    }
    if let Some(e) = r.euro {
        plan.push((e, 3, -2_999, "Vodafone", "Vodafone GmbH Mobilfunk Rechnung 2398123".to_string(),
                   Some("Vodafone GmbH"), "Utilities"));
    }
    if let Some(i) = r.investment {
        plan.push((i, 18, rng.random_range(2_000..8_000), "Vanguard", "DIVIDEND RECEIVED VTI".to_string(),
                   Some("VANGUARD TOTAL STOCK MKT"), "Interest"));
    }
    plan
}

/// Monthly movements, newest month first, while they fit in `budget`; every month also moves $500 from checking
/// to savings on the 15th (two entries).
fn recurring(rng: &mut ChaCha8Rng, accounts: &[Account], budget: usize) -> Vec<Entry> {
    let (start, end) = (data_start(), data_end());
    let r = roles(accounts);
    let mut out: Vec<Entry> = Vec::new();
    let (mut year, mut month) = (DATA_END.0, DATA_END.1);
    for _ in 0..25 {
        let first = ymd(year, month, 1);
        for (account, day, cents, payee, raw, party, category) in
            month_plan(rng, accounts, &r, first)
        {
            let date = ymd(year, month, day);
            if date < start || date > end || out.len() >= budget {
                continue;
            }
            let mut e = entry(rng, accounts, account, date, cents, (payee, &raw));
            e.counterparty = party.map(str::to_string);
            e.category = Some(category);
            e.recurring = true;
            out.push(e);
        }
        let day15 = ymd(year, month, 15);
        if let Some(savings) = r.savings
            && day15 >= start
            && day15 <= end
            && out.len() + 2 <= budget
        {
            out.extend(transfer_pair(rng, accounts, day15, (r.checking, savings)));
        }
        (year, month) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
    }
    out
}

/// Both sides of a $500 transfer, with the same creation time.
fn transfer_pair(
    rng: &mut ChaCha8Rng,
    accounts: &[Account],
    date: NaiveDate,
    (from, to): (usize, usize),
) -> [Entry; 2] {
    let to_raw = format!("ONLINE TRANSFER TO SAV XXXXXX{}", accounts[to].last4);
    let from_raw = format!("ONLINE TRANSFER FROM CHK XXXXXX{}", accounts[from].last4);
    let mut out = entry(
        rng,
        accounts,
        from,
        date,
        -50_000,
        ("Transfer to Savings", &to_raw),
    );
    let mut inn = entry(
        rng,
        accounts,
        to,
        date,
        50_000,
        ("Transfer from Checking", &from_raw),
    );
    inn.created_at = out.created_at;
    for e in [&mut out, &mut inn] {
        e.transfer = true;
        e.recurring = true;
        e.category = Some("Transfers");
    }
    [out, inn]
}

/// (payee, raw text after the card prefix (`{code}` becomes three random characters), counterparty, category,
/// min cents, max cents)
type Spend = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
);

#[rustfmt::skip]
const SPEND_USD: [Spend; 11] = [
    ("Whole Foods", "WHOLEFDS MKT #10234 BROOKLYN NY", "WHOLE FOODS MARKET", "Groceries", 2_000, 18_000),
    ("Trader Joe's", "TRADER JOE S #558 NEW YORK NY", "TRADER JOE'S", "Groceries", 1_500, 9_000),
    ("Starbucks", "STARBUCKS STORE 08432 NEW YORK NY", "STARBUCKS CORP", "Dining", 350, 950),
    ("Chipotle", "CHIPOTLE 1234 NEW YORK NY", "CHIPOTLE MEXICAN GRILL", "Dining", 1_000, 2_500),
    ("Sweetgreen", "SWEETGREEN BROADWAY NEW YORK NY", "SWEETGREEN INC", "Dining", 1_200, 2_200),
    ("Shell", "SHELL OIL 57444 BROOKLYN NY", "SHELL OIL", "Transport", 2_500, 7_000),
    ("Uber", "UBER *TRIP HELP.UBER.COM CA", "UBER TECHNOLOGIES", "Transport", 800, 4_500),
    ("Amazon", "AMZN MKTP US*{code} SEATTLE WA", "AMAZON.COM SERVICES", "Shopping", 1_000, 25_000),
    ("Target", "TARGET 00012345 BROOKLYN NY", "TARGET CORP", "Shopping", 1_500, 12_000),
    ("CVS Pharmacy", "CVS/PHARMACY #02179 NEW YORK NY", "CVS PHARMACY", "Shopping", 500, 6_000),
    ("Delta Air Lines", "DELTA AIR 0062345678901 ATLANTA GA", "DELTA AIR LINES", "Transport", 15_000, 60_000),
];

#[rustfmt::skip]
const SPEND_EUR: [Spend; 5] = [
    ("REWE", "REWE Markt GmbH Berlin", "REWE Markt GmbH", "Groceries", 1_200, 9_500),
    ("Lidl", "LIDL DIENSTL GMBH BERLIN", "Lidl Dienstleistung GmbH", "Groceries", 800, 6_000),
    ("Deutsche Bahn", "DB Vertrieb GmbH Fahrkarte", "DB Vertrieb GmbH", "Transport", 1_990, 12_990),
    ("Amazon", "AMZN MKTP DE*{code} LUXEMBOURG", "Amazon EU S.a.r.l.", "Shopping", 1_500, 20_000),
    ("Cafe Einstein", "CAFE EINSTEIN UNTER DEN LINDEN", "Einstein Kaffee GmbH", "Dining", 450, 2_400),
];

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

/// An account for everyday spending: checking 45%, the card 38% (checking without one), the EUR account 12%,
/// savings the rest (checking without a EUR account or savings).
fn spend_account(rng: &mut ChaCha8Rng, accounts: &[Account]) -> usize {
    let r = roles(accounts);
    match rng.random_range(0..100) {
        0..45 => r.checking,
        45..83 => r.subscriptions,
        83..95 => r.euro.unwrap_or(r.checking),
        _ => r.savings.unwrap_or(r.checking),
    }
}

/// One everyday movement: spending at a merchant (5% uncategorized), 3% refunds, 3% ATM withdrawals from checking,
/// 10% with a note; about 5% copy the previous one's date and creation time.
fn everyday(
    rng: &mut ChaCha8Rng,
    accounts: &[Account],
    prev: Option<(NaiveDate, DateTime<Utc>)>,
) -> Entry {
    let date = data_start() + chrono::Duration::days(rng.random_range(0..DATA_DAYS));
    let account = spend_account(rng, accounts);
    let a = &accounts[account];
    let pool: &[Spend] = if a.currency == "EUR" {
        &SPEND_EUR
    } else {
        &SPEND_USD
    };
    let (payee, raw, party, category, lo, hi) = pool[rng.random_range(0..pool.len())];
    let roll = rng.random_range(0..100);
    let prefix = if a.kind == Kind::Card {
        "CARD"
    } else {
        "POS DEBIT"
    };
    let mut e = if roll < 3 && a.kind == Kind::Checking && a.currency == "USD" {
        let cents = -rng.random_range(1..11) * 2_000;
        let raw = format!("ATM WITHDRAWAL {} 5TH AVE NEW YORK NY", a.last4);
        let mut e = entry(
            rng,
            accounts,
            account,
            date,
            cents,
            ("ATM Withdrawal", &raw),
        );
        e.category = Some("Cash");
        e
    } else {
        let code: String = (0..3)
            .map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[rng.random_range(0..32)]))
            .collect();
        let refund = roll >= 97;
        let base = format!("{prefix} {} {}", a.last4, raw.replace("{code}", &code));
        let raw = if refund {
            format!("REFUND {base}")
        } else {
            base
        };
        let cents = rng.random_range(lo..=hi) * if refund { 1 } else { -1 };
        let mut e = entry(rng, accounts, account, date, cents, (payee, &raw));
        e.counterparty = Some(party.to_string());
        e.category = (!rng.random_bool(0.05)).then_some(category);
        e
    };
    if rng.random_bool(0.10) {
        e.note = Some(NOTES[rng.random_range(0..NOTES.len())].to_string());
    }
    if let Some((d, created)) = prev.filter(|_| rng.random_bool(0.05)) {
        e.date = d;
        e.created_at = created;
    }
    e
}

/// Monday of the week holding `d`.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}
