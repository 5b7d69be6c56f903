//! Minor units of currencies (ISO 4217): how many decimals an amount in cents of that currency has. Servers such
//! as Sure send money as integer minor units (`amount_cents`), so 4250 is 42.50 USD, 4250 JPY, or 4.250 KWD.
//! Unknown codes have two decimals, as most currencies do.

use rust_decimal::Decimal;

const ZERO: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const FOUR: &[&str] = &["CLF", "UYW"];

/// Decimals of one minor unit of `code` (case-insensitive).
pub fn minor_units(code: &str) -> u32 {
    let code = code.trim().to_ascii_uppercase();
    let is = |list: &[&str]| list.contains(&code.as_str());
    if is(ZERO) {
        0
    } else if is(THREE) {
        3
    } else if is(FOUR) {
        4
    } else {
        2
    }
}

/// An amount given in minor units of `code`.
pub fn from_minor(units: i64, code: &str) -> Decimal {
    Decimal::new(units, minor_units(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_become_the_currency_s_own_decimals() {
        assert_eq!(from_minor(4250, "USD").to_string(), "42.50");
        assert_eq!(from_minor(4250, "JPY").to_string(), "4250");
        assert_eq!(from_minor(4250, "kwd").to_string(), "4.250");
        assert_eq!(from_minor(-1, "EUR").to_string(), "-0.01");
    }
}
