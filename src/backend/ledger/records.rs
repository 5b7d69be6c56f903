//! A ledger index built from domain transactions instead of journal text: what a server's mirror loads into memory
//! so that it is filtered, summed and analysed by the same `engine` as a journal. The strings of each transaction
//! are appended to one arena (the index's only "file"), so an entry is the same compact record a journal entry is.
//! Edits replace an entry in place (new strings and postings are appended; the old ones stay as garbage until the
//! next full build), which is what lets an edit show on the next frame without rebuilding the whole index.

use super::{
    Entry, EntryKind, Journal, PostingRec, ServerIndex, ServerRow, SourceFile, Span, TagRec,
};
use crate::domain::{Tag, Transaction};
use std::path::PathBuf;

impl Journal {
    /// An empty index for a server's transactions; `origin` names where they are kept (the mirror file).
    pub fn for_server(origin: PathBuf) -> Journal {
        Journal {
            files: vec![SourceFile {
                path: origin,
                text: String::new(),
                len: 0,
                mtime: None,
                hash: 0,
                read_only: None,
            }],
            server: Some(ServerIndex::default()),
            ..Journal::default()
        }
    }

    /// Builds the index of `txns`, each with the key that orders it within its day (oldest first).
    pub fn from_records<'a>(
        origin: PathBuf,
        txns: impl IntoIterator<Item = (&'a Transaction, &'a str)>,
    ) -> Journal {
        let mut j = Journal::for_server(origin);
        for (t, order) in txns {
            j.upsert_record(t, order);
        }
        j.reindex();
        j
    }

    /// Every live transaction with its order key, oldest first: what a rebuild starts from.
    pub fn records(&self) -> Vec<(Transaction, String)> {
        self.by_date
            .iter()
            .map(|&i| {
                let order = self
                    .server
                    .as_ref()
                    .map(|s| self.text(0, s.rows[i as usize].order).to_string())
                    .unwrap_or_default();
                (self.view(i).to_transaction(), order)
            })
            .collect()
    }

    fn arena(&mut self, s: &str) -> Span {
        let text = &mut self.files[0].text;
        let start = text.len() as u32;
        text.push_str(s);
        (start, text.len() as u32)
    }

    fn push_tags(&mut self, tags: &[Tag]) -> std::ops::Range<u32> {
        let start = self.tags.len() as u32;
        for t in tags {
            let rec = TagRec {
                name: self.arena(&t.name),
                value: self.arena(&t.value),
            };
            self.tags.push(rec);
        }
        start..self.tags.len() as u32
    }

    /// The entry and server row for `t`, its strings and postings appended to the index.
    fn record(&mut self, t: &Transaction, order: &str) -> (Entry, ServerRow) {
        let start = self.files[0].text.len() as u32;
        let description = self.arena(&t.description);
        let code = self.arena(&t.code);
        let txn_tags = self.push_tags(&t.tags);
        let pstart = self.postings.len() as u32;
        for p in &t.postings {
            let tags = self.push_tags(&p.tags);
            let account = self.accounts.intern(&p.account);
            if account as usize == self.account_kinds.len() {
                self.account_kinds.push(p.account_kind());
            }
            let commodity = self.commodities.intern(&p.amount.commodity);
            let cost = match &p.cost {
                Some(c) => {
                    self.commodities.intern(&c.commodity);
                    self.costs.push(c.clone());
                    self.costs.len() as u32
                }
                None => 0,
            };
            self.postings.push(PostingRec {
                account,
                commodity,
                quantity: p.amount.quantity,
                kind: p.kind,
                tags,
                cost,
                inferred: false,
            });
        }
        let row = ServerRow {
            id: self.arena(&t.id.0),
            payee: self.arena(&t.payee),
            note: self.arena(&t.note),
            source: self.arena(&t.source),
            order: self.arena(order),
            flag: t.needs_review,
            read_only: t.read_only,
        };
        let entry = Entry {
            file: 0,
            span: (start, self.files[0].text.len() as u32),
            line: 0,
            date: t.date,
            status: t.status,
            code,
            description,
            payee_end: description.1,
            postings: pstart..self.postings.len() as u32,
            tags: txn_tags,
            hash: 0,
            kind: EntryKind::Regular,
        };
        (entry, row)
    }

    /// Adds `t`, or replaces the entry with its id. Returns the entry's index. A new entry is listed after the next
    /// `reindex`; a replaced one at once (unless its date changed, which also needs `reindex`).
    pub fn upsert_record(&mut self, t: &Transaction, order: &str) -> u32 {
        let (entry, row) = self.record(t, order);
        let existing = self.find(&t.id);
        let server = self.server.get_or_insert_with(ServerIndex::default);
        match existing {
            Some(i) => {
                self.entries[i as usize] = entry;
                server.rows[i as usize] = row;
                i
            }
            None => {
                let i = self.entries.len() as u32;
                self.entries.push(entry);
                server.rows.push(row);
                server.by_id.insert(t.id.0.clone().into_boxed_str(), i);
                i
            }
        }
    }

    /// Takes the transaction with this id out of the listing (after the next `reindex`) and out of id lookups.
    pub fn remove_record(&mut self, id: &str) -> bool {
        let Some(server) = self.server.as_mut() else {
            return false;
        };
        match server.by_id.remove(id) {
            Some(i) => {
                self.entries[i as usize].kind = EntryKind::Removed;
                true
            }
            None => false,
        }
    }

    /// Lists every live entry by date; within a day, by the server's order key.
    pub fn reindex(&mut self) {
        let entries = &self.entries;
        let mut by_date: Vec<u32> = (0..entries.len() as u32)
            .filter(|&i| entries[i as usize].kind == EntryKind::Regular)
            .collect();
        match &self.server {
            Some(s) => {
                let text = &self.files[0].text;
                let order = |i: u32| {
                    let (a, b) = s.rows[i as usize].order;
                    &text[a as usize..b as usize]
                };
                by_date.sort_by(|&a, &b| {
                    (entries[a as usize].date, order(a)).cmp(&(entries[b as usize].date, order(b)))
                });
            }
            None => by_date.sort_by_key(|&i| entries[i as usize].date),
        }
        self.by_date = by_date;
    }

    /// How much of the arena and postings is garbage from replaced entries, as a fraction of the whole.
    pub fn garbage_ratio(&self) -> f64 {
        let live: usize = self
            .by_date
            .iter()
            .map(|&i| {
                let e = &self.entries[i as usize];
                (e.postings.end - e.postings.start) as usize
            })
            .sum();
        if self.postings.is_empty() {
            0.0
        } else {
            1.0 - live as f64 / self.postings.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ledger::engine::{self, MatchCache};
    use crate::backend::{Dimension, GroupBy, PageRequest};
    use crate::domain::{AccountKind, Money, Posting, PostingKind, Status, TxnId};
    use crate::query;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn posting(account: &str, cents: i64, kind: AccountKind) -> Posting {
        Posting {
            account: account.into(),
            amount: Money::new(Decimal::new(cents, 2), "USD"),
            cost: None,
            kind: PostingKind::Real,
            account_kind: Some(kind),
            tags: vec![],
            comment: String::new(),
        }
    }

    fn txn(id: &str, day: u32, payee: &str, cents: i64, category: Option<&str>) -> Transaction {
        let mut postings = vec![posting("Chase Checking", -cents, AccountKind::Asset)];
        if let Some(c) = category {
            postings.push(posting(c, cents, AccountKind::Expense));
        }
        Transaction {
            id: TxnId(id.into()),
            date: NaiveDate::from_ymd_opt(2026, 3, day).expect("date"),
            status: Status::Unmarked,
            description: format!("{payee} purchase"),
            payee: payee.into(),
            note: "a note".into(),
            code: String::new(),
            tags: vec![Tag::new("Work expense", "")],
            postings,
            category: category.map(str::to_string),
            source: "Chase Checking".into(),
            needs_review: None,
            read_only: false,
        }
    }

    #[test]
    fn a_server_ledger_gives_back_the_transactions_it_was_built_from() {
        let txns = vec![
            txn("u-1", 2, "Starbucks", 450, Some("Food & Drink")),
            txn("u-2", 1, "Shell", 4000, None),
        ];
        let j = Journal::from_records("mirror".into(), txns.iter().map(|t| (t, "")));
        let cache = MatchCache::new();
        let page = cache
            .page(&j, &query::Query::all(), &PageRequest::all())
            .expect("page");
        assert_eq!(page.items, txns, "newest first, every field kept");
        assert_eq!(page.sum.get("USD"), Decimal::new(-4450, 2));
        // The server's kinds, not hledger's naming rules: "Food & Drink" is a category, Checking a real account.
        let review = query::parse("is:review").expect("query");
        let queue = cache.page(&j, &review, &PageRequest::all()).expect("queue");
        assert_eq!(queue.total, 2, "both unmarked");
        let by_cat = cache
            .breakdown(&j, &query::Query::all(), Dimension::Category)
            .expect("breakdown");
        assert_eq!(by_cat[0].key, "Food & Drink");
        let summary = cache
            .summary(&j, &query::Query::all(), GroupBy::Month)
            .expect("summary");
        assert_eq!(summary[0].spending.get("USD"), Decimal::new(450, 2));
        let words = query::parse("note").expect("query");
        assert_eq!(
            cache
                .page(&j, &words, &PageRequest::all())
                .expect("words")
                .total,
            2,
            "free words search the note kept apart from the description"
        );
        let balances = engine::balances(&j);
        let checking = balances
            .iter()
            .find(|a| a.name == "Chase Checking")
            .expect("checking");
        assert_eq!(checking.kind, AccountKind::Asset);
    }

    #[test]
    fn replacing_and_removing_records() {
        let txns = [
            txn("a", 1, "One", 100, Some("Food")),
            txn("b", 2, "Two", 200, Some("Food")),
        ];
        let mut j = Journal::from_records("mirror".into(), txns.iter().map(|t| (t, "")));
        let mut edited = txn("a", 1, "One", 100, Some("Food"));
        edited.tags.push(Tag::new("vacation", ""));
        j.upsert_record(&edited, "");
        assert_eq!(
            engine::transaction(&j, &TxnId("a".into())).expect("a"),
            edited
        );
        assert!(j.remove_record("b"));
        j.reindex();
        assert_eq!(j.by_date.len(), 1);
        assert!(engine::transaction(&j, &TxnId("b".into())).is_err());
        assert!(j.garbage_ratio() > 0.0);
        let tags = engine::tags(&j);
        assert_eq!(tags.len(), 2);
    }
}
