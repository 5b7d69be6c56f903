//! Deterministic, realistic sample journals for demos, oracle tests and benchmarks. The same options always produce
//! byte-identical output (a ChaCha8 generator seeded from `seed`, whose stream is fixed across `rand` releases, unlike
//! `StdRng`). Amounts are kept as integer cents so every transaction balances exactly and the savings balance
//! assertions written each month hold. Trade-off: realism is skin-deep — the spending mix and payees are plausible,
//! but amounts are not tied to any income budget, so the checking account may run negative in large files.

use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{self, Write};

/// What to generate. `start` is the date of the first transaction; the span grows with the transaction count
/// (about four transactions a day, at most ten years, at least three months).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    pub transactions: usize,
    pub seed: u64,
    pub start: NaiveDate,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            transactions: 1_000,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
        }
    }
}

const ACCOUNTS: &[&str] = &[
    "assets:checking",
    "assets:savings",
    "assets:cash",
    "liabilities:credit card",
    "income:salary",
    "income:interest",
    "expenses:groceries",
    "expenses:rent",
    "expenses:dining",
    "expenses:transport",
    "expenses:utilities",
    "expenses:subscriptions",
    "expenses:shopping",
    "expenses:health",
    "expenses:travel",
    "expenses:unknown",
];

/// A spending category: its account, payees, and the range of amounts in cents.
struct Category {
    account: &'static str,
    payees: &'static [&'static str],
    notes: &'static [&'static str],
    min_cents: i64,
    max_cents: i64,
    /// Relative frequency among card/checking spending.
    weight: u32,
}

const CATEGORIES: &[Category] = &[
    Category {
        account: "expenses:groceries",
        payees: &[
            "Whole Foods",
            "Trader Joe's",
            "Safeway",
            "Costco",
            "Aldi",
            "Farmers Market",
        ],
        notes: &["weekly shop", "party supplies", "bulk run"],
        min_cents: 1_200,
        max_cents: 21_000,
        weight: 24,
    },
    Category {
        account: "expenses:dining",
        payees: &[
            "Chipotle",
            "Starbucks",
            "Blue Bottle Coffee",
            "Tony's Pizza",
            "Sushi Ran",
            "Burger Barn",
        ],
        notes: &["lunch with team", "date night", "birthday dinner"],
        min_cents: 450,
        max_cents: 9_500,
        weight: 22,
    },
    Category {
        account: "expenses:transport",
        payees: &["Uber", "Lyft", "Shell", "Chevron", "Clipper Card"],
        notes: &["airport", "fuel", "monthly pass"],
        min_cents: 800,
        max_cents: 7_000,
        weight: 12,
    },
    Category {
        account: "expenses:utilities",
        payees: &["PG&E", "Comcast", "City Water", "T-Mobile"],
        notes: &["monthly bill"],
        min_cents: 3_000,
        max_cents: 18_000,
        weight: 5,
    },
    Category {
        account: "expenses:subscriptions",
        payees: &["Netflix", "Spotify", "iCloud", "New York Times", "GitHub"],
        notes: &["annual plan"],
        min_cents: 299,
        max_cents: 2_299,
        weight: 8,
    },
    Category {
        account: "expenses:shopping",
        payees: &["Amazon", "Target", "IKEA", "Best Buy", "REI"],
        notes: &["birthday gift for Sam", "new desk lamp", "hiking boots"],
        min_cents: 900,
        max_cents: 32_000,
        weight: 14,
    },
    Category {
        account: "expenses:health",
        payees: &["CVS Pharmacy", "Walgreens", "Dr. Patel", "Bay Dental"],
        notes: &["copay", "prescription"],
        min_cents: 1_000,
        max_cents: 25_000,
        weight: 5,
    },
    Category {
        account: "expenses:travel",
        payees: &["Delta", "Airbnb", "Marriott", "Amtrak", "United"],
        notes: &["conference", "family visit"],
        min_cents: 5_000,
        max_cents: 90_000,
        weight: 3,
    },
    Category {
        account: "expenses:unknown",
        payees: &[
            "POS DEBIT 4821",
            "SQ *COFFEE CART",
            "CHECKCARD 0412",
            "ACH WITHDRAWAL",
        ],
        notes: &["what is this?"],
        min_cents: 300,
        max_cents: 12_000,
        weight: 4,
    },
];

const TRIPS: &[&str] = &["paris", "lisbon", "berlin", "rome"];
const EURO_PAYEES: &[&str] = &[
    "Café de Flore",
    "Le Petit Zinc",
    "Time Out Market",
    "Musée d'Orsay",
];

/// Column where amounts end (right-aligned), counted from the start of the posting line.
const AMOUNT_END: usize = 40;

/// Writes an hledger journal for `opts`: `account`/`commodity` directives, then `opts.transactions` transactions in
/// date order. Monthly salary, rent, savings transfer (with a balance assertion), interest and card payment are
/// part of the count.
pub fn generate(opts: &GenerateOptions, out: &mut impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    Generator::new(opts).run(&mut w)?;
    w.flush()
}

struct Generator {
    rng: ChaCha8Rng,
    n: usize,
    start: NaiveDate,
    span_days: u64,
    /// Take-home pay per half month in cents at the start, sized to the spending density so checking stays afloat.
    base_salary: i64,
    savings_cents: i64,
    cash_cents: i64,
    card_cents: i64,
    rent_code: u32,
    weight_total: u32,
    /// Reused buffer for formatting amounts.
    amount: String,
}

/// One posting as the generator writes it.
struct Line<'a> {
    account: &'a str,
    amount: Option<Amount>,
    comment: Option<&'a str>,
}

impl<'a> Line<'a> {
    fn new(account: &'a str, amount: Option<Amount>) -> Self {
        Line {
            account,
            amount,
            comment: None,
        }
    }
}

#[derive(Clone, Copy)]
enum Amount {
    Usd(i64),
    /// Euros (cents) with a per-unit price in dollar cents: `12.50 EUR @ $1.10`.
    EurAt(i64, i64),
    /// Euros (cents) with a total price in dollar cents: `20.00 EUR @@ $22.00`.
    EurTotal(i64, i64),
    /// Dollars followed by a balance assertion: `$500.00 = $12,500.00`.
    UsdAssert(i64, i64),
}

struct Header<'a> {
    date: NaiveDate,
    status: &'static str,
    code: Option<u32>,
    description: &'a str,
    note: Option<&'a str>,
    comment: Option<&'a str>,
}

impl<'a> Header<'a> {
    fn cleared(date: NaiveDate, description: &'a str, note: Option<&'a str>) -> Self {
        Header {
            date,
            status: "*",
            code: None,
            description,
            note,
            comment: None,
        }
    }
}

/// Average everyday purchase in cents, used to size the salary.
const AVERAGE_PURCHASE_CENTS: i64 = 9_800;

impl Generator {
    fn new(opts: &GenerateOptions) -> Self {
        let span_days = ((opts.transactions / 4) as u64).clamp(90, 3_652);
        let per_month = opts.transactions as i64 * 30 / span_days as i64;
        let base_salary = ((per_month * AVERAGE_PURCHASE_CENTS * 85 / 100 + 260_000) / 2 / 5_000
            * 5_000)
            .max(260_000);
        Generator {
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            n: opts.transactions,
            start: opts.start,
            span_days,
            base_salary,
            savings_cents: 0,
            cash_cents: 0,
            card_cents: 0,
            rent_code: 1_001,
            weight_total: CATEGORIES.iter().map(|c| c.weight).sum(),
            amount: String::with_capacity(48),
        }
    }

    fn run(&mut self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(b"; Sample journal generated by `tally generate`.\n\n")?;
        for account in ACCOUNTS {
            writeln!(w, "account {account}")?;
        }
        w.write_all(b"\ncommodity $1,000.00\ncommodity 1,000.00 EUR\n\n")?;

        let mut written = 0usize;
        let mut last_month = None;
        let mut mid_month_done = false;
        let mut trip: &'static str = TRIPS[0];
        let mut trip_left = 0u32;
        while written < self.n {
            let offset = (written as u64 * self.span_days) / self.n as u64;
            let date = self
                .start
                .checked_add_days(Days::new(offset))
                .unwrap_or(self.start);
            let budget = self.n - written;
            let month = (date.year(), date.month());
            if last_month != Some(month) {
                last_month = Some(month);
                mid_month_done = false;
                written += self.month_start(w, date, budget)?;
            } else if !mid_month_done && date.day() >= 15 {
                mid_month_done = true;
                written += self.mid_month(w, date, budget)?;
            } else {
                if trip_left == 0 && self.rng.random_ratio(1, 400) {
                    trip = TRIPS[self.rng.random_range(0..TRIPS.len())];
                    trip_left = self.rng.random_range(6..20);
                }
                if trip_left > 0 {
                    trip_left -= 1;
                    self.trip_expense(w, date, trip)?;
                } else {
                    self.everyday(w, date)?;
                }
                written += 1;
            }
        }
        Ok(())
    }

    fn status(&mut self) -> &'static str {
        match self.rng.random_range(0..100) {
            0..80 => "*",
            80..88 => "!",
            _ => "",
        }
    }

    fn cents(&mut self, min: i64, max: i64) -> i64 {
        self.rng.random_range(min..=max)
    }

    fn years_in(&self, date: NaiveDate) -> i64 {
        i64::from(date.year() - self.start.year())
    }

    /// Salary, rent (paid by check), savings transfer with a balance assertion and interest, as many of the four as
    /// `budget` allows. Returns how many were written.
    fn month_start(
        &mut self,
        w: &mut impl Write,
        date: NaiveDate,
        budget: usize,
    ) -> io::Result<usize> {
        let salary = self.base_salary + 5_000 * self.years_in(date);
        self.salary(w, date, salary)?;
        if budget < 2 {
            return Ok(1);
        }
        let rent = 185_000 + 5_000 * self.years_in(date);
        let mut header = Header::cleared(date, "Oakwood Apartments", Some("rent"));
        header.code = Some(self.rent_code);
        self.rent_code += 1;
        let lines = [
            Line::new("expenses:rent", Some(Amount::Usd(rent))),
            Line::new("assets:checking", None),
        ];
        self.txn(w, &header, &lines)?;
        if budget < 3 {
            return Ok(2);
        }
        let transfer = 20_000 + 2_500 * self.rng.random_range(0..12);
        self.savings_cents += transfer;
        let lines = [
            Line::new(
                "assets:savings",
                Some(Amount::UsdAssert(transfer, self.savings_cents)),
            ),
            Line::new("assets:checking", Some(Amount::Usd(-transfer))),
        ];
        self.txn(
            w,
            &Header::cleared(date, "Transfer to savings", None),
            &lines,
        )?;
        if budget < 4 {
            return Ok(3);
        }
        let interest = self.savings_cents * 35 / 100 / 12 / 100 + 1;
        self.savings_cents += interest;
        let lines = [
            Line::new("assets:savings", Some(Amount::Usd(interest))),
            Line::new("income:interest", None),
        ];
        self.txn(
            w,
            &Header::cleared(date, "Ally Bank", Some("interest")),
            &lines,
        )?;
        Ok(4)
    }

    /// Second salary and the card paid off in full.
    fn mid_month(
        &mut self,
        w: &mut impl Write,
        date: NaiveDate,
        budget: usize,
    ) -> io::Result<usize> {
        let salary = self.base_salary + 5_000 * self.years_in(date);
        self.salary(w, date, salary)?;
        if budget < 2 {
            return Ok(1);
        }
        let payment = self.card_cents.max(100);
        self.card_cents -= payment;
        let lines = [
            Line::new("liabilities:credit card", Some(Amount::Usd(payment))),
            Line::new("assets:checking", Some(Amount::Usd(-payment))),
        ];
        self.txn(
            w,
            &Header::cleared(date, "Chase Card", Some("autopay")),
            &lines,
        )?;
        Ok(2)
    }

    fn salary(&mut self, w: &mut impl Write, date: NaiveDate, cents: i64) -> io::Result<()> {
        let lines = [
            Line::new("assets:checking", Some(Amount::Usd(cents))),
            Line::new("income:salary", None),
        ];
        self.txn(
            w,
            &Header::cleared(date, "Acme Corp", Some("payroll")),
            &lines,
        )
    }

    /// A day-to-day purchase: card or checking, sometimes cash, sometimes an ATM withdrawal.
    fn everyday(&mut self, w: &mut impl Write, date: NaiveDate) -> io::Result<()> {
        let status = self.status();
        if self.rng.random_ratio(1, 40) {
            let cents = 2_000 * self.rng.random_range(1..=10);
            self.cash_cents += cents;
            let mut header = Header::cleared(date, "ATM withdrawal", None);
            header.status = status;
            let lines = [
                Line::new("assets:cash", Some(Amount::Usd(cents))),
                Line::new("assets:checking", None),
            ];
            return self.txn(w, &header, &lines);
        }
        let mut pick = self.rng.random_range(0..self.weight_total);
        let mut category = &CATEGORIES[0];
        for c in CATEGORIES {
            if pick < c.weight {
                category = c;
                break;
            }
            pick -= c.weight;
        }
        let cents = self.cents(category.min_cents, category.max_cents);
        let payee = category.payees[self.rng.random_range(0..category.payees.len())];
        let note = if self.rng.random_ratio(1, 12) {
            Some(category.notes[self.rng.random_range(0..category.notes.len())])
        } else {
            None
        };
        let funding = if category.account == "expenses:dining" && self.cash_cents >= cents {
            self.cash_cents -= cents;
            "assets:cash"
        } else if self.rng.random_ratio(2, 3) {
            self.card_cents += cents;
            "liabilities:credit card"
        } else {
            "assets:checking"
        };
        let comment = match category.account {
            "expenses:unknown" if self.rng.random_ratio(1, 2) => Some("review:"),
            "expenses:dining" | "expenses:travel" if self.rng.random_ratio(1, 8) => Some("work:"),
            _ => None,
        };
        let mut lines = [
            Line::new(category.account, Some(Amount::Usd(cents))),
            Line::new(funding, Some(Amount::Usd(-cents))),
        ];
        if comment == Some("work:") && self.rng.random_ratio(1, 3) {
            lines[0].comment = Some("reimbursable:");
        }
        if self.rng.random_ratio(1, 5) {
            lines[1].amount = None;
        }
        let header = Header {
            date,
            status,
            code: None,
            description: payee,
            note,
            comment,
        };
        self.txn(w, &header, &lines)
    }

    /// A purchase abroad, paid in euros on the card, tagged with the trip.
    fn trip_expense(&mut self, w: &mut impl Write, date: NaiveDate, trip: &str) -> io::Result<()> {
        let status = self.status();
        let payee = EURO_PAYEES[self.rng.random_range(0..EURO_PAYEES.len())];
        let euros = 50 * self.rng.random_range(10..=300);
        // An even rate keeps euros × rate a whole number of cents.
        let rate = 2 * self.rng.random_range(53..=57);
        let dollars = euros * rate / 100;
        self.card_cents += dollars;
        let (account, amount) = if self.rng.random_ratio(1, 2) {
            ("expenses:dining", Amount::EurAt(euros, rate))
        } else {
            ("expenses:travel", Amount::EurTotal(euros, dollars))
        };
        let tag = format!("trip:{trip}");
        let header = Header {
            date,
            status,
            code: None,
            description: payee,
            note: None,
            comment: Some(&tag),
        };
        let lines = [
            Line::new(account, Some(amount)),
            Line::new("liabilities:credit card", None),
        ];
        self.txn(w, &header, &lines)
    }

    fn txn(
        &mut self,
        w: &mut impl Write,
        header: &Header<'_>,
        lines: &[Line<'_>],
    ) -> io::Result<()> {
        let d = header.date;
        write!(w, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())?;
        if !header.status.is_empty() {
            write!(w, " {}", header.status)?;
        }
        if let Some(code) = header.code {
            write!(w, " ({code})")?;
        }
        write!(w, " {}", header.description)?;
        if let Some(note) = header.note {
            write!(w, " | {note}")?;
        }
        if let Some(comment) = header.comment {
            write!(w, "  ; {comment}")?;
        }
        w.write_all(b"\n")?;
        for line in lines {
            w.write_all(b"    ")?;
            w.write_all(line.account.as_bytes())?;
            if let Some(amount) = line.amount {
                self.amount.clear();
                format_amount(&mut self.amount, amount);
                let pad = AMOUNT_END
                    .saturating_sub(4 + line.account.len() + self.amount.len())
                    .max(2);
                write!(w, "{:pad$}{}", "", self.amount)?;
            }
            if let Some(comment) = line.comment {
                write!(w, "  ; {comment}")?;
            }
            w.write_all(b"\n")?;
        }
        w.write_all(b"\n")
    }
}

fn format_amount(out: &mut String, amount: Amount) {
    match amount {
        Amount::Usd(c) => usd(out, c),
        Amount::EurAt(e, p) => {
            grouped(out, e);
            out.push_str(" EUR @ ");
            usd(out, p);
        }
        Amount::EurTotal(e, t) => {
            grouped(out, e);
            out.push_str(" EUR @@ ");
            usd(out, t);
        }
        Amount::UsdAssert(c, total) => {
            usd(out, c);
            out.push_str(" = ");
            usd(out, total);
        }
    }
}

/// `-$1,234.56`
fn usd(out: &mut String, cents: i64) {
    if cents < 0 {
        out.push('-');
    }
    out.push('$');
    grouped(out, cents.abs());
}

/// `1,234.56` from a non-negative number of cents.
fn grouped(out: &mut String, cents: i64) {
    let units = (cents / 100).to_string();
    let len = units.len();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out.push('.');
    let frac = cents % 100;
    out.push(char::from(b'0' + (frac / 10) as u8));
    out.push(char::from(b'0' + (frac % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(transactions: usize, seed: u64) -> String {
        let opts = GenerateOptions {
            transactions,
            seed,
            ..GenerateOptions::default()
        };
        let mut buf = Vec::new();
        generate(&opts, &mut buf).expect("generate");
        String::from_utf8(buf).expect("utf8")
    }

    fn headers(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .collect()
    }

    #[test]
    fn same_seed_is_byte_identical_and_other_seed_differs() {
        assert_eq!(render(500, 7), render(500, 7));
        assert_ne!(render(500, 7), render(500, 8));
    }

    #[test]
    fn writes_exactly_the_requested_count_in_date_order() {
        for n in [0, 1, 3, 5, 999] {
            let text = render(n, 1);
            let heads = headers(&text);
            assert_eq!(heads.len(), n, "count for {n}");
            let dates: Vec<&str> = heads.iter().map(|h| &h[..10]).collect();
            assert!(dates.windows(2).all(|p| p[0] <= p[1]), "dates sorted");
        }
    }

    #[test]
    fn amounts_have_digit_groups_and_signs() {
        let mut s = String::new();
        usd(&mut s, -123_456_789);
        assert_eq!(s, "-$1,234,567.89");
        s.clear();
        usd(&mut s, 5);
        assert_eq!(s, "$0.05");
        s.clear();
        format_amount(&mut s, Amount::EurAt(1_250, 110));
        assert_eq!(s, "12.50 EUR @ $1.10");
    }

    #[test]
    fn every_explicit_dollar_transaction_balances() {
        let text = render(3_000, 3);
        for block in text.split("\n\n").filter(|b| b.starts_with("20")) {
            let amounts: Vec<i64> = block
                .lines()
                .skip(1)
                .filter_map(|l| l.split("  ").map(str::trim).find(|p| p.contains('$')))
                .filter(|a| !a.contains('@') && !a.contains('='))
                .map(|a| {
                    a.replace(['$', ',', '.'], "")
                        .parse::<i64>()
                        .expect("cents")
                })
                .collect();
            let postings = block.lines().count() - 1;
            if amounts.len() == postings {
                assert_eq!(amounts.iter().sum::<i64>(), 0, "unbalanced: {block}");
            }
        }
    }

    #[test]
    fn about_a_hundred_bytes_per_transaction() {
        let text = render(20_000, 5);
        let per = text.len() / 20_000;
        assert!((70..=130).contains(&per), "{per} bytes per transaction");
    }
}
