//! Reading a server's JSON objects field by field, leniently where that loses nothing and strictly where it would:
//! unknown fields are ignored, an integer sent as a string (`"4250"`) is accepted, a missing or malformed required
//! field is an error that names the server, the call and the field. Dialects parse through `Fields` instead of
//! derived structs so a bad answer says exactly what was wrong, and never turns into a silent wrong number.

use crate::backend::BackendError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// One JSON object of an answer, with the words that locate it in messages
/// (`http://host: GET /api/v1/transactions page 3: transaction 7`).
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    place: String,
}

pub fn parse_error(place: &str, message: impl std::fmt::Display) -> BackendError {
    BackendError::Parse(format!("{place}: {message}"))
}

/// The answer's body as JSON, or an error saying what it was instead (an HTML page, truncated JSON).
pub fn json_body(place: &str, body: &[u8]) -> Result<Value, BackendError> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        let what = if text.trim_start().starts_with('<') {
            "an HTML page, not JSON".to_string()
        } else if text.trim().is_empty() {
            "an empty body, not JSON".to_string()
        } else {
            format!("not valid JSON ({e})")
        };
        parse_error(place, format!("the answer is {what}"))
    })
}

impl<'a> Fields<'a> {
    pub fn new(value: &'a Value, place: impl Into<String>) -> Result<Fields<'a>, BackendError> {
        let place = place.into();
        match value.as_object() {
            Some(map) => Ok(Fields { map, place }),
            None => Err(parse_error(&place, "expected a JSON object")),
        }
    }

    pub fn place(&self) -> &str {
        &self.place
    }

    fn missing(&self, key: &str) -> BackendError {
        parse_error(&self.place, format!("field `{key}` is missing"))
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> BackendError {
        let mut shown = got.to_string();
        if shown.len() > 60 {
            shown.truncate(60);
            shown.push('…');
        }
        parse_error(
            &self.place,
            format!("field `{key}` should be {expected}, got {shown}"),
        )
    }

    /// The value, or `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A nested object, or `None` when absent or `null`.
    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, BackendError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Fields::new(v, format!("{} {key}", self.place)).map(Some),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    pub fn array(&self, key: &str) -> Result<&'a [Value], BackendError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.wrong(key, "a list", other)),
        }
    }

    /// A string; a number is accepted as its decimal text (some servers send ids as numbers).
    pub fn opt_str(&self, key: &str) -> Result<Option<String>, BackendError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    pub fn str(&self, key: &str) -> Result<String, BackendError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// An integer, sent as a JSON number or as a string holding one; anything else (a fraction, a float, words)
    /// is an error rather than a guess.
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, BackendError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a whole number", &Value::Number(n.clone()))),
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| self.wrong(key, "a whole number", v)),
            Some(other) => Err(self.wrong(key, "a whole number", other)),
        }
    }

    pub fn int(&self, key: &str) -> Result<i64, BackendError> {
        self.opt_int(key)?.ok_or_else(|| self.missing(key))
    }

    /// A decimal amount in major units, sent as a JSON number (`-56`, `12.34`) or a string holding one
    /// (`"-12.50"`). The number's shortest text is read exactly, so `12.34` is 12.34, never 12.339999….
    pub fn opt_decimal(&self, key: &str) -> Result<Option<Decimal>, BackendError> {
        let text = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => return Err(self.wrong(key, "an amount", other)),
        };
        let parsed = if text.contains(['e', 'E']) {
            Decimal::from_scientific(&text)
        } else {
            Decimal::from_str_exact(&text)
        };
        parsed
            .map(Some)
            .map_err(|_| self.wrong(key, "an amount", &Value::String(text.clone())))
    }

    pub fn decimal(&self, key: &str) -> Result<Decimal, BackendError> {
        self.opt_decimal(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, BackendError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v @ Value::String(s)) => match s.as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(self.wrong(key, "true or false", v)),
            },
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// A `YYYY-MM-DD` date (a longer ISO 8601 timestamp is cut to its date).
    pub fn date(&self, key: &str) -> Result<NaiveDate, BackendError> {
        let text = self.str(key)?;
        let day = text.get(..10).unwrap_or(&text);
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| self.wrong(key, "a date (YYYY-MM-DD)", &Value::String(text.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_as_strings_are_read_and_anything_inexact_is_refused() {
        let v = json!({"a": 4250, "b": "4250", "c": "42.50", "d": 42.5, "e": null});
        let f = Fields::new(&v, "srv: GET /x").expect("object");
        assert_eq!(f.int("a").expect("a"), 4250);
        assert_eq!(f.int("b").expect("b"), 4250);
        let e = f.int("c").expect_err("a fraction is not cents").to_string();
        assert!(e.contains("srv: GET /x") && e.contains("`c`"), "{e}");
        assert!(f.int("d").is_err());
        let e = f.int("e").expect_err("null is missing").to_string();
        assert!(e.contains("field `e` is missing"), "{e}");
        assert_eq!(f.opt_int("zz").expect("absent"), None);
    }

    #[test]
    fn amounts_as_numbers_or_strings_are_exact() {
        let v = json!({"a": -56, "b": 12.34, "c": "-12.50", "d": "12,50", "e": 0.1});
        let f = Fields::new(&v, "srv").expect("object");
        assert_eq!(f.decimal("a").expect("a").to_string(), "-56");
        assert_eq!(f.decimal("b").expect("b").to_string(), "12.34");
        assert_eq!(f.decimal("c").expect("c").to_string(), "-12.50");
        assert!(f.decimal("d").is_err(), "a localized string is refused");
        assert_eq!(f.decimal("e").expect("e").to_string(), "0.1");
    }

    #[test]
    fn bodies_that_are_not_json_are_named() {
        let e = json_body(
            "srv: GET /x",
            b"<html><title>502 Bad Gateway</title></html>",
        )
        .expect_err("html")
        .to_string();
        assert!(e.contains("HTML page"), "{e}");
        let e = json_body("srv", b"{\"a\": [1, 2")
            .expect_err("cut")
            .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
    }
}
