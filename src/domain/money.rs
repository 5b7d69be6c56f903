//! `Money` (one quantity in one commodity) and `Balance` (a sum per commodity). A `Balance` keeps its commodities in a
//! small sorted vector: most balances hold one or two commodities, so a vector beats a map in time and memory.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub commodity: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
}

impl Money {
    pub fn new(quantity: Decimal, commodity: impl Into<String>) -> Self {
        Money {
            commodity: commodity.into(),
            quantity,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_money(f, self.quantity, &self.commodity)
    }
}

/// Writes a quantity with its commodity the way a reader expects it: symbols such as `$` or `€` on the left,
/// codes such as `EUR` on the right, with at least two decimals.
pub(crate) fn format_money(
    f: &mut impl fmt::Write,
    quantity: Decimal,
    commodity: &str,
) -> fmt::Result {
    let mut q = quantity.normalize();
    if q.scale() < 2 {
        q.rescale(2);
    }
    let symbol_left = commodity.chars().count() == 1 && !commodity.chars().all(char::is_alphabetic);
    if commodity.is_empty() {
        write!(f, "{q}")
    } else if symbol_left {
        if q.is_sign_negative() {
            write!(f, "-{commodity}{}", q.abs())
        } else {
            write!(f, "{commodity}{q}")
        }
    } else {
        write!(f, "{q} {commodity}")
    }
}

/// A sum of money per commodity, commodities sorted by name; zero sums are kept until `non_zero` is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    amounts: Vec<Money>,
}

impl Balance {
    pub fn new() -> Self {
        Balance::default()
    }

    pub fn add(&mut self, quantity: Decimal, commodity: &str) {
        match self
            .amounts
            .binary_search_by(|m| m.commodity.as_str().cmp(commodity))
        {
            Ok(i) => self.amounts[i].quantity += quantity,
            Err(i) => self.amounts.insert(i, Money::new(quantity, commodity)),
        }
    }

    pub fn add_money(&mut self, money: &Money) {
        self.add(money.quantity, &money.commodity);
    }

    pub fn merge(&mut self, other: &Balance) {
        for m in &other.amounts {
            self.add_money(m);
        }
    }

    /// The non-zero amounts, sorted by commodity, quantities normalised (no trailing zeros beyond the scale seen).
    pub fn non_zero(&self) -> impl Iterator<Item = &Money> {
        self.amounts.iter().filter(|m| !m.quantity.is_zero())
    }

    pub fn get(&self, commodity: &str) -> Decimal {
        self.amounts
            .iter()
            .find(|m| m.commodity == commodity)
            .map(|m| m.quantity)
            .unwrap_or_default()
    }

    pub fn is_zero(&self) -> bool {
        self.amounts.iter().all(|m| m.quantity.is_zero())
    }

    pub fn amounts(&self) -> &[Money] {
        &self.amounts
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for m in self.non_zero() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{m}")?;
        }
        if first {
            f.write_str("0")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::dec;

    mod rust_decimal_macros_free {
        macro_rules! dec {
            ($s:literal) => {
                <rust_decimal::Decimal as std::str::FromStr>::from_str(stringify!($s))
                    .expect("decimal literal")
            };
        }
        pub(crate) use dec;
    }

    #[test]
    fn balance_keeps_commodities_apart() {
        let mut b = Balance::new();
        b.add(dec!(10.50), "$");
        b.add(dec!(3), "EUR");
        b.add(dec!(-10.50), "$");
        assert_eq!(b.get("EUR"), dec!(3));
        assert_eq!(b.non_zero().count(), 1);
        assert_eq!(b.to_string(), "3.00 EUR");
    }

    #[test]
    fn money_formats_symbol_left_and_code_right() {
        assert_eq!(Money::new(dec!(-5), "$").to_string(), "-$5.00");
        assert_eq!(Money::new(dec!(1234.5), "EUR").to_string(), "1234.50 EUR");
    }
}
