//! Unit tests of the journal backend on real temp files.

use super::*;
use crate::domain::Status;
use crate::query::parse as q;
use rust_decimal::Decimal;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn write_temp(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("main.journal");
    std::fs::write(&path, text).expect("write journal");
    (dir, path)
}

const BASIC: &str = "\
2025-01-01 * Opening balances
    assets:checking        $1,000.00
    equity:opening

2025-01-05 ! Whole Foods | weekly shop  ; trip:paris
    expenses:groceries     $54.20
    assets:checking

2025-01-07 Landlord
    expenses:rent          $800
    assets:checking        $-800
";

/// The id of the `n`-th transaction matching `query`, newest first.
async fn nth_id(b: &JournalBackend, query: &Query, n: usize) -> TxnId {
    b.transactions(query, PageRequest::default())
        .await
        .expect("list")
        .items[n]
        .id
        .clone()
}

fn balance(accounts: &[Account], name: &str) -> Balance {
    accounts
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.balance.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn reads_balances_and_transactions() {
    let (_d, path) = write_temp(BASIC);
    let b = JournalBackend::open(&path).expect("open");
    assert!(
        b.load_diagnostics().is_empty(),
        "{:?}",
        b.load_diagnostics()
    );
    let acc = b.accounts().await.expect("accounts");
    assert_eq!(balance(&acc, "assets:checking").get("$"), dec("145.80"));
    assert_eq!(balance(&acc, "equity:opening").get("$"), dec("-1000"));
    let page = b
        .transactions(&Query::all(), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].payee, "Landlord", "newest first");
    let wf = &page.items[1];
    assert_eq!(wf.payee, "Whole Foods");
    assert_eq!(wf.note, "weekly shop");
    assert_eq!(wf.status, Status::Pending);
    assert_eq!(wf.tags, vec![Tag::new("trip", "paris")]);
    assert_eq!(wf.category.as_deref(), Some("expenses:groceries"));
    let f = b
        .transactions(&q("tag:trip").expect("q"), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(f.total, 1);
    assert_eq!(f.sum.get("$"), dec("-54.20"));
}

#[tokio::test]
async fn malformed_entry_is_reported_with_position_and_the_rest_loads() {
    let text = "2025-01-01 ok\n    a  $1\n    b\n\n2025-13-01 bad month\n    a  $1\n    b\n\n2025-01-03 bad amount\n    a  $1 $2\n    b\n";
    let (_d, path) = write_temp(text);
    let b = JournalBackend::open(&path).expect("open");
    let d = b.load_diagnostics();
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!((d[0].line, d[0].column), (5, 1));
    assert!(d[0].message.contains("2025-13-01"), "{}", d[0].message);
    assert_eq!(d[1].line, 10);
    assert_eq!(d[1].column, 11);
    assert!(d[1].message.contains("unexpected text"), "{}", d[1].message);
    assert_eq!(
        b.transactions(&Query::all(), PageRequest::default())
            .await
            .expect("list")
            .total,
        1
    );
}

#[tokio::test]
async fn tag_and_status_edits_touch_only_the_edited_entry_and_keep_ids() {
    let (_d, path) = write_temp(BASIC);
    let b = JournalBackend::open(&path).expect("open");
    let page = b
        .transactions(&q("landlord").expect("q"), PageRequest::default())
        .await
        .expect("list");
    let id = page.items[0].id.clone();
    let t = b
        .update_transaction(
            &id,
            &TxnPatch {
                status: Some(Status::Cleared),
                add_tags: vec![Tag::new("work", "")],
                ..TxnPatch::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(t.id, id, "tag and status edits keep the id");
    assert_eq!(t.status, Status::Cleared);
    assert!(t.has_tag("work"));
    let after = std::fs::read_to_string(&path).expect("read");
    let before_lines: Vec<&str> = BASIC.lines().collect();
    let after_lines: Vec<&str> = after.lines().collect();
    assert_eq!(before_lines.len(), after_lines.len());
    let changed: Vec<usize> = (0..before_lines.len())
        .filter(|&i| before_lines[i] != after_lines[i])
        .collect();
    assert_eq!(
        changed,
        vec![8],
        "only the header of the edited transaction changes"
    );
}

/// Found by `tests/it/edit_props.rs`: a note with blanks around it was saved trimmed, but the lookup of the edited
/// transaction (whose id the new note changed) compared the untrimmed note, so a successful save answered NotFound.
#[tokio::test]
async fn note_with_surrounding_blanks_is_saved_and_answered() {
    let (_d, path) = write_temp(BASIC);
    let b = JournalBackend::open(&path).expect("open");
    let id = nth_id(&b, &q("landlord").expect("q"), 0).await;
    let patch = TxnPatch {
        note: Some("  march rent ".into()),
        ..TxnPatch::default()
    };
    let t = b.update_transaction(&id, &patch).await.expect("update");
    assert_eq!(
        (t.payee.as_str(), t.note.as_str()),
        ("Landlord", "march rent")
    );
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("2025-01-07 Landlord | march rent\n")
    );
}

/// Found by `tests/it/edit_props.rs`: a category change read back right but made a later balance assertion on the
/// account fail, so the saved file was one hledger refuses. It is refused, naming the transaction and the assertion.
#[tokio::test]
async fn category_change_that_breaks_an_assertion_elsewhere_is_refused() {
    let text = "2025-01-01 Shop\n    expenses:food  $5\n    assets:cash\n\n2025-01-02 Shop\n    expenses:food  $5 = $10\n    assets:cash\n";
    let (_d, path) = write_temp(text);
    let b = JournalBackend::open(&path).expect("open");
    let id = nth_id(&b, &Query::all(), 1).await;
    let patch = TxnPatch {
        category: Some("expenses:dining".into()),
        ..TxnPatch::default()
    };
    let err = b
        .update_transaction(&id, &patch)
        .await
        .expect_err("refused");
    let message = err.to_string();
    assert!(
        matches!(err, BackendError::ReadOnly(ref i, _) if *i == id.0),
        "{message}"
    );
    assert!(message.contains("main.journal:1"), "{message}");
    assert!(
        message.contains("assertion or assignment on expenses:food"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
}

#[tokio::test]
async fn unchanged_save_is_byte_identical_and_crlf_bom_survive() {
    let text = "\u{feff}2025-01-01 * A\r\n    a  $1\r\n    b\r\n";
    let (_d, path) = write_temp(text);
    let b = JournalBackend::open(&path).expect("open");
    let id = nth_id(&b, &Query::all(), 0).await;
    let r = b
        .bulk_tag(std::slice::from_ref(&id), &[], &["absent".into()])
        .await
        .expect("bulk");
    assert_eq!(r.changed, 0);
    assert_eq!(std::fs::read(&path).expect("read"), text.as_bytes());
    b.bulk_tag(std::slice::from_ref(&id), &[Tag::new("x", "")], &[])
        .await
        .expect("bulk");
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(after.starts_with('\u{feff}'));
    assert_eq!(after.matches("\r\n").count(), 3, "{after:?}");
}

#[tokio::test]
async fn concurrent_writer_change_is_kept_and_edit_reapplied_by_id() {
    let (_d, path) = write_temp(BASIC);
    let b = JournalBackend::open(&path).expect("open");
    let id = nth_id(&b, &q("landlord").expect("q"), 0).await;
    // Another program appends a transaction after tally read the file.
    let mut other = std::fs::read_to_string(&path).expect("read");
    other.push_str("\n2025-02-01 Added elsewhere\n    expenses:misc  $5\n    assets:cash\n");
    std::fs::write(&path, &other).expect("write");
    b.bulk_tag(std::slice::from_ref(&id), &[Tag::new("work", "")], &[])
        .await
        .expect("bulk");
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(
        after.contains("Added elsewhere"),
        "the other writer's change survives"
    );
    assert!(
        after.contains("Landlord  ; work:") || after.contains("work:"),
        "{after}"
    );
    // The edited transaction was removed by another program: refuse, write nothing.
    let gone = std::fs::read_to_string(&path)
        .expect("read")
        .replace("2025-01-07 Landlord", "2025-01-08 Landlord");
    std::fs::write(&path, &gone).expect("write");
    let err = b
        .bulk_tag(&[id], &[Tag::new("more", "")], &[])
        .await
        .expect_err("conflict");
    assert!(matches!(err, BackendError::Conflict(_)), "{err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), gone);
}

#[tokio::test]
async fn includes_and_edits_land_in_the_included_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(
        dir.path().join("main.journal"),
        "include sub/*.journal\n\n2025-01-01 Main\n    a  $1\n    b\n",
    )
    .expect("write");
    let inc = dir.path().join("sub/2025.journal");
    std::fs::write(&inc, "2025-02-01 Included\n    a  $2\n    b\n").expect("write");
    let b = JournalBackend::open(dir.path().join("main.journal")).expect("open");
    assert!(b.load_diagnostics().is_empty());
    let page = b
        .transactions(&q("included").expect("q"), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    assert!(
        page.items[0].source.ends_with("2025.journal:1"),
        "{}",
        page.items[0].source
    );
    b.bulk_tag(&[page.items[0].id.clone()], &[Tag::new("x", "")], &[])
        .await
        .expect("bulk");
    assert!(std::fs::read_to_string(&inc).expect("read").contains("x:"));
}

#[tokio::test]
async fn ids_are_stable_across_unrelated_edits_and_duplicates_are_numbered() {
    let text = "2025-01-01 Same\n    a  $1\n    b\n\n2025-01-01 Same\n    a  $1\n    b\n";
    let (_d, path) = write_temp(text);
    let b = JournalBackend::open(&path).expect("open");
    let ids: Vec<TxnId> = b
        .transactions(&Query::all(), PageRequest::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    std::fs::write(
        &path,
        format!("2024-12-31 Other\n    a  $3\n    b\n\n{text}"),
    )
    .expect("write");
    assert!(b.reload().await.expect("reload"));
    for id in &ids {
        b.transaction(id)
            .await
            .expect("same id after an unrelated edit");
    }
}

#[tokio::test]
async fn narrowing_a_query_gives_what_a_fresh_query_gives() {
    let (_d, path) = write_temp(BASIC);
    let narrowed = JournalBackend::open(&path).expect("open");
    let fresh = JournalBackend::open(&path).expect("open");
    for text in ["o", "la", "lan", "land", "landlord", "landlordx"] {
        let q = q(text).expect("q");
        let a = narrowed
            .transactions(&q, PageRequest::default())
            .await
            .expect("narrowed");
        let b = fresh
            .transactions(&q, PageRequest::default())
            .await
            .expect("fresh");
        assert_eq!((a.total, &a.sum), (b.total, &b.sum), "{text}");
        // A fresh backend for the comparison each time: no narrowing there.
        let b2 = JournalBackend::open(&path)
            .expect("open")
            .transactions(&q, PageRequest::default())
            .await;
        assert_eq!(a.items, b2.expect("fresh").items, "{text}");
    }
}
