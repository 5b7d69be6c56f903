//! The add-transaction form (`a`): date (today), description completed from the ledger's payees, and up to four
//! postings — account completed from the ledger's accounts (an account the ledger does not have yet is marked
//! *new*), amount in the journal's notation, one left empty to balance. `Tab` takes the completion shown or moves
//! on, `Shift-Tab`/`↑`/`↓` move, `Enter` saves, `Esc` cancels. The form only gathers text: the backend writes the
//! entry and says what is wrong with it.

use crate::backend::NewTransaction;
use chrono::NaiveDate;
use tui_input::Input;

/// Postings the form offers.
pub const POSTINGS: usize = 4;

#[derive(Debug, Clone)]
pub struct AddForm {
    /// Date, description, then account and amount of each posting.
    pub fields: Vec<Input>,
    pub focus: usize,
    /// What the focused field would complete to (`Tab` takes it).
    pub completion: Option<String>,
    /// Why the last save was refused (the form's or the backend's words).
    pub error: Option<String>,
    /// Sent to the backend, waiting for its answer.
    pub saving: bool,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Date,
    Description,
    Account(usize),
    Amount(usize),
}

impl AddForm {
    pub fn new(today: NaiveDate) -> AddForm {
        let mut fields = vec![Input::new(today.to_string()), Input::default()];
        fields.extend((0..2 * POSTINGS).map(|_| Input::default()));
        AddForm {
            fields,
            focus: 1,
            completion: None,
            error: None,
            saving: false,
        }
    }

    pub fn field(index: usize) -> Field {
        match index {
            0 => Field::Date,
            1 => Field::Description,
            i if i % 2 == 0 => Field::Account((i - 2) / 2),
            i => Field::Amount((i - 3) / 2),
        }
    }

    pub fn label(index: usize) -> String {
        match AddForm::field(index) {
            Field::Date => "Date".into(),
            Field::Description => "Description".into(),
            Field::Account(p) => format!("Account {}", p + 1),
            Field::Amount(p) => format!("Amount {}", p + 1),
        }
    }

    /// Moves the focus by `delta` fields, wrapping around.
    pub fn move_focus(&mut self, delta: isize) {
        let n = self.fields.len() as isize;
        self.focus = (self.focus as isize + delta).rem_euclid(n) as usize;
        self.completion = None;
    }

    /// Works out the completion for the focused field: the best payee or account starting with what is typed (or
    /// containing it), shown only when it adds something.
    pub fn complete(&mut self, payees: &[String], accounts: &[String]) {
        let typed = self.fields[self.focus].value().trim().to_lowercase();
        let pool = match AddForm::field(self.focus) {
            Field::Description => payees,
            Field::Account(_) => accounts,
            _ => {
                self.completion = None;
                return;
            }
        };
        if typed.is_empty() {
            self.completion = None;
            return;
        }
        let starts = pool.iter().find(|c| c.to_lowercase().starts_with(&typed));
        let contains = || pool.iter().find(|c| c.to_lowercase().contains(&typed));
        self.completion = starts
            .or_else(contains)
            .filter(|c| c.to_lowercase() != typed)
            .cloned();
    }

    /// Takes the completion shown; false when there is none.
    pub fn accept_completion(&mut self) -> bool {
        match self.completion.take() {
            Some(c) => {
                self.fields[self.focus] = Input::new(c);
                true
            }
            None => false,
        }
    }

    /// Whether posting `p`'s account is one the ledger does not have yet.
    pub fn is_new_account(&self, p: usize, accounts: &[String]) -> bool {
        let typed = self.fields[2 + 2 * p].value().trim();
        !typed.is_empty() && !accounts.iter().any(|a| a == typed)
    }

    /// The transaction typed, or the field to fix and why.
    pub fn to_new(&self) -> Result<NewTransaction, (usize, String)> {
        let date_text = self.fields[0].value().trim();
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(date_text, "%Y/%m/%d"))
            .map_err(|_| (0, format!("{date_text:?} is not a date (YYYY-MM-DD)")))?;
        let description = self.fields[1].value().trim().to_string();
        if description.is_empty() {
            return Err((1, "a description is needed".into()));
        }
        let postings: Vec<(String, String)> = (0..POSTINGS)
            .map(|p| {
                (
                    self.fields[2 + 2 * p].value().trim().to_string(),
                    self.fields[3 + 2 * p].value().trim().to_string(),
                )
            })
            .filter(|(a, m)| !a.is_empty() || !m.is_empty())
            .collect();
        if postings.len() < 2 {
            return Err((
                2,
                "two postings are needed: where the money went and where from".into(),
            ));
        }
        Ok(NewTransaction {
            date,
            description,
            postings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(form: &mut AddForm, index: usize, text: &str) {
        form.fields[index] = Input::new(text.to_string());
        form.focus = index;
    }

    #[test]
    fn fields_complete_and_read_as_a_transaction() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let mut f = AddForm::new(today);
        let payees = vec!["Blue Bottle Coffee".to_string(), "Safeway".to_string()];
        let accounts = vec!["expenses:dining".to_string(), "assets:checking".to_string()];
        typed(&mut f, 1, "blue");
        f.complete(&payees, &accounts);
        assert_eq!(f.completion.as_deref(), Some("Blue Bottle Coffee"));
        assert!(f.accept_completion());
        typed(&mut f, 2, "dining");
        f.complete(&payees, &accounts);
        assert_eq!(f.completion.as_deref(), Some("expenses:dining"), "contains");
        f.accept_completion();
        typed(&mut f, 3, "$4.50");
        typed(&mut f, 4, "assets:cash");
        assert!(f.is_new_account(1, &accounts));
        assert!(!f.is_new_account(0, &accounts));
        let t = f.to_new().expect("valid");
        assert_eq!(t.date, today);
        assert_eq!(t.description, "Blue Bottle Coffee");
        assert_eq!(
            t.postings,
            vec![
                ("expenses:dining".to_string(), "$4.50".to_string()),
                ("assets:cash".to_string(), String::new())
            ]
        );
        typed(&mut f, 0, "30/11/2026");
        assert_eq!(f.to_new().expect_err("bad date").0, 0);
        assert_eq!(AddForm::label(5), "Amount 2");
    }
}
