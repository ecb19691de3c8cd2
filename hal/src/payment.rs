//! Payment codes and the channel table.
//!
//! A customer's payment code (the barcode/QR a wallet app shows) is a string
//! of digits whose prefix and length tell which wallet issued it. The
//! prefixes are the wallets' published rules, and they overlap and change, so
//! classification is a table of [`ChannelRule`]s — built-in defaults that a
//! deployment can extend or override — rather than code.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

/// `s` with all but its last four characters replaced by `*`; strings
/// shorter than eight characters are masked whole. Use it for every payment
/// code that goes near a log.
///
/// The result is safe to log: the four characters kept are escaped as
/// Rust escapes them in `{:?}` (a newline becomes `\n`), and a long input
/// shows at most [`MASK_STARS`] stars and `…` for the rest.
pub fn mask(s: &str) -> String {
    let count = s.chars().count();
    let keep = if count >= 8 { 4 } else { 0 };
    let hidden = count - keep;
    let mut out: String = "*".repeat(hidden.min(MASK_STARS));
    if hidden > MASK_STARS {
        out.push('…');
    }
    out.extend(s.chars().skip(hidden).flat_map(char::escape_debug));
    out
}

/// The most stars [`mask`] writes.
pub const MASK_STARS: usize = 32;

/// A payment channel: a lower-case stable name such as `wechat`, `alipay`,
/// `unionpay`, or `unknown`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Channel(Cow<'static, str>);

impl Channel {
    /// WeChat Pay.
    pub const WECHAT: Channel = Channel(Cow::Borrowed("wechat"));
    /// Alipay.
    pub const ALIPAY: Channel = Channel(Cow::Borrowed("alipay"));
    /// UnionPay (QuickPass / 云闪付).
    pub const UNIONPAY: Channel = Channel(Cow::Borrowed("unionpay"));
    /// No rule matched.
    pub const UNKNOWN: Channel = Channel(Cow::Borrowed("unknown"));

    /// A channel by name. Names are 1–32 characters of `a-z`, `0-9`, `_`
    /// and `-`, starting with a letter.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong with the name.
    pub fn new(name: &str) -> Result<Channel, String> {
        let valid = (1..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Channel(Cow::Owned(name.to_string())))
        } else {
            Err(alloc::format!(
                "channel name {name:?} must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Channel {
    type Error = String;
    fn try_from(name: String) -> Result<Channel, String> {
        Channel::new(&name)
    }
}

impl From<Channel> for String {
    fn from(channel: Channel) -> String {
        channel.0.into_owned()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Channel({})", self.0)
    }
}

/// One classification rule: codes of `min_length..=max_length` digits that
/// start with one of `prefixes` belong to `channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// The channel the rule assigns.
    #[serde(rename = "name")]
    pub channel: Channel,
    /// Digit prefixes; a code matches when it starts with any of them.
    pub prefixes: Vec<String>,
    /// Shortest code length, in digits.
    pub min_length: usize,
    /// Longest code length, in digits.
    pub max_length: usize,
}

impl ChannelRule {
    /// A rule for every prefix in `first..=last` (two-digit ranges such as
    /// WeChat Pay's 10–15).
    pub fn range(
        channel: Channel,
        first: u32,
        last: u32,
        min_length: usize,
        max_length: usize,
    ) -> Self {
        ChannelRule {
            channel,
            prefixes: (first..=last).map(|p| p.to_string()).collect(),
            min_length,
            max_length,
        }
    }

    /// Checks the rule itself: prefixes are non-empty digit strings, the
    /// lengths are an ordered range within what a payment code may be.
    ///
    /// # Errors
    ///
    /// A message naming the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.prefixes.is_empty() {
            return Err("prefixes: must list at least one prefix".into());
        }
        if let Some(bad) = self
            .prefixes
            .iter()
            .find(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(alloc::format!(
                "prefixes: {bad:?} is not a string of digits"
            ));
        }
        if self.min_length > self.max_length {
            return Err("min_length: is greater than max_length".into());
        }
        if self.min_length < PaymentCode::MIN_LEN || self.max_length > PaymentCode::MAX_LEN {
            return Err(alloc::format!(
                "min_length/max_length: payment codes are {} to {} digits",
                PaymentCode::MIN_LEN,
                PaymentCode::MAX_LEN
            ));
        }
        Ok(())
    }

    /// Whether `code` (digits) matches this rule.
    pub fn matches(&self, code: &str) -> bool {
        (self.min_length..=self.max_length).contains(&code.len())
            && self.prefixes.iter().any(|p| code.starts_with(p.as_str()))
    }
}

/// An ordered list of rules; the first rule that matches decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTable {
    rules: Vec<ChannelRule>,
}

impl ChannelTable {
    /// The built-in rules, from the wallets' public documentation
    /// (docs/payment-channels.md lists the sources):
    ///
    /// | channel | digits | prefix |
    /// |---|---|---|
    /// | `wechat` | 18 | 10–15 |
    /// | `alipay` | 16–24 | 25–30 |
    /// | `unionpay` | 19 | 62 |
    pub fn builtin() -> ChannelTable {
        ChannelTable {
            rules: vec![
                ChannelRule::range(Channel::WECHAT, 10, 15, 18, 18),
                ChannelRule::range(Channel::ALIPAY, 25, 30, 16, 24),
                ChannelRule::range(Channel::UNIONPAY, 62, 62, 19, 19),
            ],
        }
    }

    /// A table of exactly `rules`, without the built-in ones.
    ///
    /// # Errors
    ///
    /// The first invalid rule's index and reason.
    pub fn from_rules(rules: Vec<ChannelRule>) -> Result<ChannelTable, String> {
        for (i, rule) in rules.iter().enumerate() {
            rule.validate()
                .map_err(|e| alloc::format!("channel[{i}].{e}"))?;
        }
        Ok(ChannelTable { rules })
    }

    /// The built-in table with `rules` placed before it, so they take
    /// precedence where they overlap (how a deployment overrides a default).
    ///
    /// # Errors
    ///
    /// As [`ChannelTable::from_rules`].
    pub fn builtin_with(mut rules: Vec<ChannelRule>) -> Result<ChannelTable, String> {
        rules.extend(ChannelTable::builtin().rules);
        ChannelTable::from_rules(rules)
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[ChannelRule] {
        &self.rules
    }

    /// The channel of `code`, or [`Channel::UNKNOWN`].
    pub fn classify(&self, code: &PaymentCode) -> Channel {
        self.rules
            .iter()
            .find(|rule| rule.matches(code.as_str()))
            .map_or(Channel::UNKNOWN, |rule| rule.channel.clone())
    }
}

impl Default for ChannelTable {
    fn default() -> Self {
        ChannelTable::builtin()
    }
}

/// Why scanned data are not a payment code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentCodeError {
    /// A byte that is not an ASCII digit.
    NotDigits,
    /// Fewer than [`PaymentCode::MIN_LEN`] or more than
    /// [`PaymentCode::MAX_LEN`] digits.
    BadLength(usize),
}

impl fmt::Display for PaymentCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentCodeError::NotDigits => f.write_str("not a payment code: contains non-digits"),
            PaymentCodeError::BadLength(n) => write!(
                f,
                "not a payment code: {n} digits, expected {} to {}",
                PaymentCode::MIN_LEN,
                PaymentCode::MAX_LEN
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PaymentCodeError {}

/// A customer-presented payment code: ASCII digits, 10 to 32 of them.
///
/// `Debug` and `Display` show it masked; [`PaymentCode::as_str`] gives the
/// whole code to the one party allowed to see it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PaymentCode(String);

impl PaymentCode {
    /// Shortest accepted code.
    pub const MIN_LEN: usize = 10;
    /// Longest accepted code.
    pub const MAX_LEN: usize = 32;

    /// Checks that `data` are a payment code.
    ///
    /// # Errors
    ///
    /// [`PaymentCodeError`] saying why not.
    pub fn parse(data: &[u8]) -> Result<PaymentCode, PaymentCodeError> {
        if !data.iter().all(u8::is_ascii_digit) {
            return Err(PaymentCodeError::NotDigits);
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&data.len()) {
            return Err(PaymentCodeError::BadLength(data.len()));
        }
        // All ASCII digits, so this is valid UTF-8.
        Ok(PaymentCode(data.iter().map(|&b| char::from(b)).collect()))
    }

    /// The whole code. Never log it; log [`PaymentCode::masked`].
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code with all but its last four digits masked.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentCode({})", self.masked())
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(table: &ChannelTable, code: &str) -> String {
        let code = PaymentCode::parse(code.as_bytes()).unwrap();
        table.classify(&code).as_str().into()
    }

    #[test]
    fn builtin_rules_follow_the_wallets_documentation() {
        let t = ChannelTable::builtin();
        // WeChat Pay: 18 digits starting 10..=15.
        for p in ["10", "11", "12", "13", "14", "15"] {
            assert_eq!(
                classify(&t, &alloc::format!("{p}4567890123456789")),
                "wechat"
            );
        }
        assert_eq!(classify(&t, "164567890123456789"), "unknown");
        assert_eq!(classify(&t, "13456789012345678"), "unknown", "17 digits");
        // Alipay: 16..=24 digits starting 25..=30.
        assert_eq!(classify(&t, "2812345678901234"), "alipay");
        assert_eq!(classify(&t, "251234567890123456789012"), "alipay");
        assert_eq!(classify(&t, "301234567890123456"), "alipay");
        assert_eq!(classify(&t, "281234567890123"), "unknown", "15 digits");
        assert_eq!(
            classify(&t, "2812345678901234567890123"),
            "unknown",
            "25 digits"
        );
        assert_eq!(classify(&t, "311234567890123456"), "unknown");
        // UnionPay: 19 digits starting 62.
        assert_eq!(classify(&t, "6212345678901234567"), "unionpay");
        assert_eq!(classify(&t, "621234567890123456"), "unknown", "18 digits");
    }

    #[test]
    fn configured_rules_take_precedence_and_extend() {
        let jd = ChannelRule {
            channel: Channel::new("jdpay").unwrap(),
            prefixes: vec!["18".into()],
            min_length: 18,
            max_length: 18,
        };
        let override_wechat = ChannelRule {
            channel: Channel::new("wechat_hk").unwrap(),
            prefixes: vec!["13".into()],
            min_length: 18,
            max_length: 18,
        };
        let t = ChannelTable::builtin_with(vec![jd, override_wechat]).unwrap();
        assert_eq!(classify(&t, "184567890123456789"), "jdpay");
        assert_eq!(classify(&t, "134567890123456789"), "wechat_hk");
        assert_eq!(classify(&t, "104567890123456789"), "wechat");
    }

    #[test]
    fn bad_rules_are_refused_with_their_index() {
        let bad = ChannelRule {
            channel: Channel::new("x").unwrap(),
            prefixes: vec!["1a".into()],
            min_length: 18,
            max_length: 18,
        };
        let err = ChannelTable::from_rules(vec![bad]).unwrap_err();
        assert!(err.starts_with("channel[0].prefixes"), "{err}");
        assert!(Channel::new("WeChat").is_err());
        assert!(Channel::new("").is_err());
    }

    #[test]
    fn payment_codes_are_digits_of_bounded_length() {
        assert_eq!(
            PaymentCode::parse(b"12345678a0"),
            Err(PaymentCodeError::NotDigits)
        );
        assert_eq!(
            PaymentCode::parse(b"123456789"),
            Err(PaymentCodeError::BadLength(9))
        );
        assert!(PaymentCode::parse(b"1234567890").is_ok());
        assert_eq!(
            PaymentCode::parse(&[b'1'; 33]),
            Err(PaymentCodeError::BadLength(33))
        );
    }

    #[test]
    fn codes_are_masked_in_debug_and_display() {
        let code = PaymentCode::parse(b"134567890123456789").unwrap();
        assert_eq!(alloc::format!("{code}"), "**************6789");
        assert_eq!(
            alloc::format!("{code:?}"),
            "PaymentCode(**************6789)"
        );
        assert_eq!(mask("1234567"), "*******");
        assert_eq!(mask(""), "");
        // What a log line shows is escaped and short, whatever was read.
        assert_eq!(mask("1234567890\n\0ab"), "**********\\n\\0ab");
        assert_eq!(mask("12345678901\u{202e}"), "********901\\u{202e}");
        let long = "9".repeat(10_000);
        assert_eq!(
            mask(&long),
            alloc::format!("{}…9999", "*".repeat(MASK_STARS))
        );
    }
}
