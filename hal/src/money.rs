//! Currencies and amounts in minor units.

use alloc::string::String;
use core::fmt;

/// An ISO 4217 currency kassa knows: its code, the number of digits of its
/// minor unit, and the sign a customer display shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    /// The three-letter code (`CNY`).
    pub code: &'static str,
    /// Digits after the decimal point (`2` for fen and cents, `0` for yen).
    pub minor_units: u8,
    /// The sign shown before an amount (`¥`, `HK$`, `€`).
    pub symbol: &'static str,
}

macro_rules! currencies {
    ($($code:literal $units:literal $symbol:literal),* $(,)?) => {
        /// Every currency kassa accepts, with minor units per ISO 4217.
        pub const CURRENCIES: &[Currency] = &[
            $(Currency { code: $code, minor_units: $units, symbol: $symbol }),*
        ];
    };
}

currencies! {
    "CNY" 2 "¥", "HKD" 2 "HK$", "MOP" 2 "MOP$", "TWD" 2 "NT$", "JPY" 0 "¥",
    "KRW" 0 "₩", "USD" 2 "$", "EUR" 2 "€", "GBP" 2 "£", "SGD" 2 "S$",
    "MYR" 2 "RM", "THB" 2 "฿", "VND" 0 "₫", "IDR" 2 "Rp", "PHP" 2 "₱",
    "INR" 2 "₹", "AUD" 2 "A$", "NZD" 2 "NZ$", "CAD" 2 "C$", "CHF" 2 "CHF ",
    "SEK" 2 "kr ", "NOK" 2 "kr ", "DKK" 2 "kr ", "PLN" 2 "zł ", "CZK" 2 "Kč ",
    "HUF" 2 "Ft ", "RUB" 2 "₽", "TRY" 2 "₺", "BRL" 2 "R$", "MXN" 2 "MX$",
    "CLP" 0 "CLP$", "ISK" 0 "kr ", "AED" 2 "AED ", "SAR" 2 "SAR ", "KWD" 3 "KD ",
    "BHD" 3 "BD ", "OMR" 3 "OMR ", "JOD" 3 "JD ", "TND" 3 "DT ", "ZAR" 2 "R",
}

impl Currency {
    /// The currency with ISO code `code` (upper case), if kassa knows it.
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES.iter().copied().find(|c| c.code == code)
    }
}

/// An amount in a currency's minor unit (fen, cents; yen have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in minor units.
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// The amount as a decimal number without sign or grouping: `36.00`,
    /// `1200` for yen, `-0.05`.
    pub fn number(&self) -> String {
        let units = u32::from(self.currency.minor_units);
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        if units == 0 {
            return alloc::format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(units);
        alloc::format!(
            "{sign}{}.{:0width$}",
            magnitude / scale,
            magnitude % scale,
            width = units as usize
        )
    }
}

/// `¥36.00`, `HK$12.50`, `¥1200` (yen).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.number();
        match number.strip_prefix('-') {
            Some(rest) => write!(f, "-{}{rest}", self.currency.symbol),
            None => write!(f, "{}{number}", self.currency.symbol),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn minor_units_follow_iso_4217() {
        for (code, units) in [
            ("CNY", 2),
            ("HKD", 2),
            ("TWD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("KWD", 3),
        ] {
            assert_eq!(
                Currency::from_code(code).unwrap().minor_units,
                units,
                "{code}"
            );
        }
        assert!(Currency::from_code("XXX").is_none());
        assert!(Currency::from_code("cny").is_none());
    }

    #[test]
    fn amounts_format_in_their_currency() {
        let cny = Currency::from_code("CNY").unwrap();
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(Money::new(3600, cny).to_string(), "¥36.00");
        assert_eq!(Money::new(5, cny).to_string(), "¥0.05");
        assert_eq!(Money::new(-5, cny).to_string(), "-¥0.05");
        assert_eq!(Money::new(1200, jpy).to_string(), "¥1200");
        assert_eq!(Money::new(1500, kwd).number(), "1.500");
        assert_eq!(Money::new(i64::MIN, cny).number(), "-92233720368547758.08");
    }
}
