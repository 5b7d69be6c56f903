//! A text pattern from a query, as hledger reads `acct:`, `desc:`, `payee:`, `note:`, `code:` and bare words: a
//! case-insensitive, unanchored regular expression (`acct:^exp`, `acct:dining|groceries`). Text without regex syntax
//! is searched as a plain substring, without the regex engine, which keeps filtering a million entries fast.

use regex::{Regex, RegexBuilder};

/// Characters that make a pattern a regular expression rather than plain text.
const SYNTAX: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
];

#[derive(Debug, Clone)]
pub struct Pattern {
    /// As written (for display and for sending the query on).
    source: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// Lowercased text searched as a substring.
    Text(String),
    Regex(Regex),
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// A pattern from query text: a regular expression when it has regex syntax; the error is the regex engine's.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let matcher = if source.contains(SYNTAX) {
            let regex = RegexBuilder::new(source)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| match e {
                    regex::Error::Syntax(s) => {
                        let last = s.lines().last().unwrap_or_default().trim();
                        format!("{source:?} is not a regular expression ({last})")
                    }
                    other => format!("{source:?}: {other}"),
                })?;
            Matcher::Regex(regex)
        } else {
            Matcher::Text(source.to_lowercase())
        };
        Ok(Pattern {
            source: source.to_string(),
            matcher,
        })
    }

    /// A pattern matching `text` literally, regex characters included (built in code, not typed).
    pub fn literal(text: &str) -> Pattern {
        Pattern::new(&regex::escape(text)).unwrap_or_else(|_| Pattern {
            source: text.to_string(),
            matcher: Matcher::Text(text.to_lowercase()),
        })
    }

    /// A pattern matching exactly `text` (whole, any case), e.g. a tag name given as an API parameter.
    pub fn exact(text: &str) -> Pattern {
        Pattern::new(&format!("^{}$", regex::escape(text)))
            .unwrap_or_else(|_| Pattern::literal(text))
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The lowercased text searched for, when this is a plain substring search.
    pub fn text(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Text(t) => Some(t),
            Matcher::Regex(_) => None,
        }
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        match &self.matcher {
            Matcher::Text(t) => super::contains_ci(haystack, t),
            Matcher::Regex(r) => r.is_match(haystack),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_a_substring_regex_syntax_a_regex() {
        let p = Pattern::new("Dining").expect("text");
        assert_eq!(p.text(), Some("dining"));
        assert!(p.is_match("expenses:DINING out"));
        let r = Pattern::new("^exp").expect("regex");
        assert!(r.text().is_none());
        assert!(r.is_match("Expenses:food") && !r.is_match("assets:exp"));
        let alt = Pattern::new("dining|groceries").expect("regex");
        assert!(alt.is_match("expenses:groceries") && alt.is_match("expenses:dining"));
        assert!(Pattern::new("(unclosed").is_err());
    }

    #[test]
    fn literals_escape_regex_characters() {
        let p = Pattern::literal("amazon.com (x)");
        assert!(p.is_match("Amazon.com (X) order"));
        assert!(!p.is_match("amazonXcom (x)"));
    }
}
