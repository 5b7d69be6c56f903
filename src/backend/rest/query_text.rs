//! Writes a `Query` back as query-language text, for the `q` parameter. A query parsed from text is sent as that
//! text; one assembled in code (or whose `source` no longer matches its terms) is rendered term by term, quoting
//! values with blanks. The server parses `q` with the same parser, so it filters exactly as a local backend would.

use crate::backend::BackendError;
use crate::domain::Status;
use crate::query::{self, Cmp, Query, Term};

fn quote(text: &str) -> Result<String, BackendError> {
    if !text.is_empty() && !text.contains(['"', '\'']) && !text.contains(char::is_whitespace) {
        Ok(text.to_string())
    } else if !text.contains('"') {
        Ok(format!("\"{text}\""))
    } else if !text.contains('\'') {
        Ok(format!("'{text}'"))
    } else {
        Err(BackendError::Invalid {
            param: "q".into(),
            message: format!(
                "{text:?} holds both kinds of quote and cannot be sent as a query term"
            ),
        })
    }
}

fn term_text(t: &Term) -> Result<String, BackendError> {
    Ok(match t {
        Term::Text(w) => quote(w.as_str())?,
        Term::Account(a) => format!("acct:{}", quote(a.as_str())?),
        Term::Desc(d) => format!("desc:{}", quote(d.as_str())?),
        Term::Payee(p) => format!("payee:{}", quote(p.as_str())?),
        Term::Note(n) => format!("note:{}", quote(n.as_str())?),
        Term::Code(c) => format!("code:{}", quote(c.as_str())?),
        Term::Real(real) => format!("real:{}", u8::from(*real)),
        Term::Depth(n) => format!("depth:{n}"),
        Term::Commodity(c) => format!("cur:{}", quote(c)?),
        Term::Tag { name, value } => match value {
            Some(v) => format!(
                "tag:{}",
                quote(&format!("{}={}", name.as_str(), v.as_str()))?
            ),
            None => format!("tag:{}", quote(name.as_str())?),
        },
        Term::Amount { cmp, value, signed } => {
            let op = match cmp {
                Cmp::Eq => "",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            };
            let number = if *signed && value.is_sign_positive() && !value.is_zero() {
                format!("+{value}")
            } else if *signed {
                value.to_string()
            } else {
                value.abs().to_string()
            };
            format!("amt:{op}{number}")
        }
        Term::Date(r) => format!(
            "date:{}..{}",
            r.start.map(|d| d.to_string()).unwrap_or_default(),
            r.end.map(|d| d.to_string()).unwrap_or_default()
        ),
        Term::Status(s) => match s {
            Status::Unmarked => "status:".to_string(),
            Status::Pending => "status:!".to_string(),
            Status::Cleared => "status:*".to_string(),
        },
        Term::Not(inner) => format!("not:{}", term_text(inner)?),
        Term::IsReview => "is:review".to_string(),
        Term::IsUntagged => "is:untagged".to_string(),
    })
}

/// The text to send as `q` for `query`.
pub fn query_text(query: &Query) -> Result<String, BackendError> {
    if let Ok(parsed) = query::parse(&query.source)
        && parsed.terms == query.terms
    {
        return Ok(parsed.source);
    }
    let parts = query
        .terms
        .iter()
        .map(term_text)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_terms_parse_back_to_the_same_query() {
        for text in [
            "coffee 'whole foods' acct:\"assets:bank checking\" desc:rent payee:amazon note:gift",
            "tag:trip tag:'trip=new york' amt:>50 amt:<=-20 amt:100 amt:>=+5.5 amt:<0",
            "date:2025 date:2025-03 date:2025-01..2025-04 date:2025-01.. date:..2025-04-15",
            "status: status:! status:* cur:$ cur:EUR not:tag:work not:coffee is:review is:untagged",
        ] {
            let parsed = query::parse(text).expect("fixture query parses");
            let built = Query {
                terms: parsed.terms.clone(),
                source: String::new(),
            };
            let rendered = query_text(&built).expect("renders");
            let back = query::parse(&rendered).expect("rendered text parses");
            assert_eq!(back.terms, parsed.terms, "{rendered}");
        }
    }

    #[test]
    fn parsed_queries_are_sent_as_written() {
        let q = query::parse("  Coffee  amt:>5 ").expect("parses");
        assert_eq!(query_text(&q).expect("renders"), "Coffee  amt:>5");
        let joined = q.and(&query::parse("date:2025").expect("parses"));
        assert_eq!(
            query::parse(&query_text(&joined).expect("renders"))
                .expect("parses")
                .terms,
            joined.terms
        );
    }
}
