//! The dashboard's panes and where each goes for a terminal size. Pure arithmetic on rectangles, below both `app`
//! (which needs the table's visible row count to scroll and to fetch the right page) and `ui` (which draws into the
//! areas). Wide terminals show every pane at once; narrow ones (80×24 included) show a tab strip and the focused
//! pane only.

use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Accounts,
    Transactions,
    Detail,
    Analytics,
}

impl Pane {
    pub const ORDER: [Pane; 4] = [
        Pane::Transactions,
        Pane::Detail,
        Pane::Analytics,
        Pane::Accounts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Accounts => "Accounts",
            Pane::Transactions => "Transactions",
            Pane::Detail => "Detail",
            Pane::Analytics => "Analytics",
        }
    }
}

/// Terminals at least this wide and tall get the side-by-side layout.
pub const WIDE_MIN: (u16, u16) = (100, 30);
const DETAIL_ROWS: u16 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub filter: Rect,
    /// The pane tabs (narrow layout only).
    pub tabs: Option<Rect>,
    pub transactions: Option<Rect>,
    pub detail: Option<Rect>,
    pub accounts: Option<Rect>,
    pub analytics: Option<Rect>,
    pub status: Rect,
    pub footer: Rect,
}

impl Areas {
    pub fn pane(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::Accounts => self.accounts,
            Pane::Transactions => self.transactions,
            Pane::Detail => self.detail,
            Pane::Analytics => self.analytics,
        }
    }
}

pub fn is_wide(size: Rect) -> bool {
    size.width >= WIDE_MIN.0 && size.height >= WIDE_MIN.1
}

/// The areas for a frame of `size`; `filter_rows` is 1, or 2 when a query error is shown under the input.
pub fn areas(size: Rect, focus: Pane, filter_rows: u16) -> Areas {
    let [filter, main, status, footer] = Layout::vertical([
        Constraint::Length(filter_rows),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(size);
    let mut a = Areas {
        filter,
        status,
        footer,
        ..Areas::default()
    };
    if is_wide(size) {
        let side = (size.width / 3).max(40);
        let [left, right] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(side)]).areas(main);
        let [table, detail] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(DETAIL_ROWS)]).areas(left);
        let [accounts, analytics] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(right);
        a.transactions = Some(table);
        a.detail = Some(detail);
        a.accounts = Some(accounts);
        a.analytics = Some(analytics);
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(main);
        a.tabs = Some(tabs);
        match focus {
            Pane::Accounts => a.accounts = Some(pane),
            Pane::Transactions => a.transactions = Some(pane),
            Pane::Detail => a.detail = Some(pane),
            Pane::Analytics => a.analytics = Some(pane),
        }
    }
    a
}

/// How many transaction rows the table shows: its area minus borders and the header row. When the table is not
/// on screen (narrow layout, another pane focused) the number it would show.
pub fn table_rows(size: (u16, u16), filter_rows: u16) -> usize {
    let rect = Rect::new(0, 0, size.0, size.1);
    let a = areas(rect, Pane::Transactions, filter_rows);
    a.transactions
        .map_or(1, |r| usize::from(r.height.saturating_sub(3)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_shows_only_the_focused_pane() {
        let a = areas(Rect::new(0, 0, 80, 24), Pane::Analytics, 1);
        assert!(a.analytics.is_some());
        assert!(a.transactions.is_none() && a.accounts.is_none() && a.detail.is_none());
        assert_eq!(table_rows((80, 24), 1), 17);
    }

    #[test]
    fn wide_shows_everything() {
        let a = areas(Rect::new(0, 0, 160, 48), Pane::Transactions, 1);
        assert!(a.tabs.is_none());
        for p in Pane::ORDER {
            assert!(a.pane(p).is_some(), "{p:?}");
        }
    }

    #[test]
    fn every_pane_shows_from_100_by_30() {
        let a = areas(Rect::new(0, 0, 100, 30), Pane::Transactions, 1);
        for p in Pane::ORDER {
            assert!(
                a.pane(p).is_some_and(|r| r.width >= 30 && r.height >= 6),
                "{p:?}: {a:?}"
            );
        }
    }

    #[test]
    fn tiny_terminals_do_not_panic() {
        for (w, h) in [(1, 1), (10, 3), (0, 0), (30, 5)] {
            let _ = areas(Rect::new(0, 0, w, h), Pane::Transactions, 2);
            assert!(table_rows((w, h), 2) >= 1);
        }
    }
}
