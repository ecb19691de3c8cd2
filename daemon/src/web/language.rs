//! The languages the web screen speaks: its fixed strings, and how it
//! writes an amount of money for the customers of each market.
//!
//! Amounts are formatted here rather than by the page's
//! `Intl.NumberFormat`: they stay exact (whole `i64` minor units, never a
//! JavaScript float), they follow kassa's own table of minor-unit digits
//! (JPY and KRW have none, KWD three), they look the same whatever
//! browser and ICU version the kiosk runs (CLDR has changed French digit
//! grouping before), and they are tested here without a browser. The
//! separators and placement are CLDR's for each language's main market;
//! the browser tests check them against Chromium's `Intl` for euros.

use std::fmt::Write as _;

use kassa_hal::Money;
use serde_json::{Map, Value, json};

/// A language of the web screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English.
    En,
    /// Chinese (Simplified).
    Zh,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Japanese.
    Ja,
}

/// The screen's fixed strings in one language. `{n}` stands for a number.
struct Strings {
    welcome: &'static str,
    item: &'static str,
    qty: &'static str,
    price: &'static str,
    amount: &'static str,
    total: &'static str,
    discount: &'static str,
    tax: &'static str,
    note: &'static str,
    scan_to_pay: &'static str,
    paid: &'static str,
    failed: &'static str,
    cancelled: &'static str,
    reconnecting: &'static str,
    one_item: &'static str,
    items: &'static str,
}

const EN: Strings = Strings {
    welcome: "Welcome",
    item: "Item",
    qty: "Qty",
    price: "Price",
    amount: "Amount",
    total: "Total",
    discount: "Discount",
    tax: "Tax",
    note: "Note",
    scan_to_pay: "Scan to pay",
    paid: "Paid",
    failed: "Payment failed",
    cancelled: "Cancelled",
    reconnecting: "Reconnecting…",
    one_item: "{n} item",
    items: "{n} items",
};

const ZH: Strings = Strings {
    welcome: "欢迎光临",
    item: "商品",
    qty: "数量",
    price: "单价",
    amount: "金额",
    total: "合计",
    discount: "优惠",
    tax: "税费",
    note: "备注",
    scan_to_pay: "扫码支付",
    paid: "支付成功",
    failed: "支付失败",
    cancelled: "已取消",
    reconnecting: "正在重新连接…",
    one_item: "{n} 件商品",
    items: "{n} 件商品",
};

const DE: Strings = Strings {
    welcome: "Willkommen",
    item: "Artikel",
    qty: "Menge",
    price: "Preis",
    amount: "Betrag",
    total: "Summe",
    discount: "Rabatt",
    tax: "MwSt.",
    note: "Hinweis",
    scan_to_pay: "Zum Bezahlen scannen",
    paid: "Bezahlt",
    failed: "Zahlung fehlgeschlagen",
    cancelled: "Abgebrochen",
    reconnecting: "Verbindung wird wiederhergestellt…",
    one_item: "{n} Artikel",
    items: "{n} Artikel",
};

const FR: Strings = Strings {
    welcome: "Bienvenue",
    item: "Article",
    qty: "Qté",
    price: "Prix",
    amount: "Montant",
    total: "Total",
    discount: "Remise",
    tax: "TVA",
    note: "Remarque",
    scan_to_pay: "Scannez pour payer",
    paid: "Paiement accepté",
    failed: "Échec du paiement",
    cancelled: "Annulé",
    reconnecting: "Reconnexion…",
    one_item: "{n} article",
    items: "{n} articles",
};

const ES: Strings = Strings {
    welcome: "Bienvenidos",
    item: "Artículo",
    qty: "Cant.",
    price: "Precio",
    amount: "Importe",
    total: "Total",
    discount: "Descuento",
    tax: "IVA",
    note: "Nota",
    scan_to_pay: "Escanee para pagar",
    paid: "Pago realizado",
    failed: "Pago fallido",
    cancelled: "Cancelado",
    reconnecting: "Reconectando…",
    one_item: "{n} artículo",
    items: "{n} artículos",
};

const JA: Strings = Strings {
    welcome: "いらっしゃいませ",
    item: "商品",
    qty: "数量",
    price: "単価",
    amount: "金額",
    total: "合計",
    discount: "割引",
    tax: "消費税",
    note: "備考",
    scan_to_pay: "スキャンしてお支払い",
    paid: "お支払い完了",
    failed: "お支払いできませんでした",
    cancelled: "キャンセルされました",
    reconnecting: "再接続中…",
    one_item: "{n}点",
    items: "{n}点",
};

/// How a language writes numbers and places the currency sign (CLDR).
struct NumberStyle {
    decimal: char,
    group: char,
    /// Digits the integer part needs before it is grouped (Spanish writes
    /// `1234,50` but `12.345,50`).
    grouping_from: usize,
    /// `3,50 €` rather than `€3.50`.
    sign_after: bool,
}

/// No-break space: an amount never wraps between its number and its sign.
const NBSP: char = '\u{a0}';
/// Narrow no-break space, French digit grouping.
const NNBSP: char = '\u{202f}';

impl Language {
    /// Every language, in the order the docs list them.
    pub const ALL: [Language; 6] = [
        Language::En,
        Language::Zh,
        Language::De,
        Language::Fr,
        Language::Es,
        Language::Ja,
    ];

    /// The code written in the configuration (`"fr"`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Ja => "ja",
        }
    }

    /// The language of configuration code `code`, if the screen speaks it.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The BCP 47 tag for the page's `lang` attributes, which choose the
    /// fonts' glyph forms for Han characters (Chinese or Japanese).
    pub fn tag(self) -> &'static str {
        match self {
            Language::Zh => "zh-Hans",
            other => other.code(),
        }
    }

    fn strings(self) -> &'static Strings {
        match self {
            Language::En => &EN,
            Language::Zh => &ZH,
            Language::De => &DE,
            Language::Fr => &FR,
            Language::Es => &ES,
            Language::Ja => &JA,
        }
    }

    fn number_style(self) -> NumberStyle {
        let (decimal, group, grouping_from, sign_after) = match self {
            Language::En | Language::Zh | Language::Ja => ('.', ',', 4, false),
            Language::De => (',', '.', 4, true),
            Language::Fr => (',', NNBSP, 4, true),
            Language::Es => (',', '.', 5, true),
        };
        NumberStyle {
            decimal,
            group,
            grouping_from,
            sign_after,
        }
    }

    /// An item's quantity, a decimal string (`"0.455"`), with this
    /// language's separators: `0,455` in German. Anything that is not a
    /// plain decimal is left as it is.
    pub fn format_quantity(self, quantity: &str) -> String {
        let (whole, fraction) = match quantity.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (quantity, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return quantity.to_string();
        }
        let style = self.number_style();
        let mut out = group_digits(whole, &style);
        if let Some(fraction) = fraction {
            out.push(style.decimal);
            out.push_str(fraction);
        }
        out
    }

    /// `money` as this language's customers read it, with the currency's
    /// own minor-unit digits: `€3.50` and `¥1,200` in English, `3,50 €` in
    /// French and German, `1234,50 €` in Spanish. Never wraps: the spaces
    /// are no-break spaces.
    pub fn format_money(self, money: &Money) -> String {
        let style = self.number_style();
        let units = u32::from(money.currency.minor_units);
        let magnitude = money.minor.unsigned_abs();
        let scale = 10u64.pow(units);
        let mut number = group_digits(&(magnitude / scale).to_string(), &style);
        if units > 0 {
            number.push(style.decimal);
            let _ = write!(
                number,
                "{:0width$}",
                magnitude % scale,
                width = units as usize
            );
        }
        let minus = if money.minor < 0 { "-" } else { "" };
        // kassa's signs that are letters carry a trailing space ("CHF ").
        let sign = money.currency.symbol.trim_end();
        if style.sign_after {
            format!("{minus}{number}{NBSP}{sign}")
        } else if money.currency.symbol.ends_with(' ') {
            format!("{minus}{sign}{NBSP}{number}")
        } else {
            format!("{minus}{sign}{number}")
        }
    }

    /// `3 items`, `1 article`, `3点`.
    pub fn count_items(self, n: usize) -> String {
        let one = match self {
            Language::En | Language::De | Language::Es => n == 1,
            Language::Fr => n <= 1,
            Language::Zh | Language::Ja => false,
        };
        let strings = self.strings();
        let pattern = if one { strings.one_item } else { strings.items };
        pattern.replace("{n}", &n.to_string())
    }
}

/// `digits` (ASCII) with a group separator every three from the right,
/// once there are enough of them.
fn group_digits(digits: &str, style: &NumberStyle) -> String {
    let mut out = String::with_capacity(digits.len() * 2);
    for (i, digit) in digits.chars().enumerate() {
        let left = digits.len() - i;
        if i > 0 && left.is_multiple_of(3) && digits.len() >= style.grouping_from {
            out.push(style.group);
        }
        out.push(digit);
    }
    out
}

/// The languages of one web screen: the first for everything; the second,
/// if any, also under the headlines (the welcome, "scan to pay", the
/// payment's outcome), for a market's visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Languages {
    /// Every string and every amount.
    pub first: Language,
    /// The headlines again, after ` · `.
    pub second: Option<Language>,
}

/// English with Chinese headlines: the screen as kassa always drew it.
impl Default for Languages {
    fn default() -> Languages {
        Languages {
            first: Language::En,
            second: Some(Language::Zh),
        }
    }
}

/// The strings that also appear in the second language.
const HEADLINES: [&str; 5] = ["welcome", "scan_to_pay", "paid", "failed", "cancelled"];

impl Languages {
    /// The languages from a configuration's codes: one or two, different.
    ///
    /// # Errors
    ///
    /// A message naming the code that is not one of the screen's, or why
    /// the list is wrong.
    pub fn parse(codes: &[String]) -> Result<Languages, String> {
        let known = || {
            Language::ALL
                .iter()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut languages = Vec::with_capacity(2);
        for code in codes.iter().take(3) {
            let language = Language::from_code(code).ok_or_else(|| {
                let shown: String = code.chars().take(16).collect();
                format!(
                    "language {shown:?} is not one the web screen speaks: use one of {}",
                    known()
                )
            })?;
            if languages.contains(&language) {
                return Err(format!("language {code:?} is listed twice"));
            }
            languages.push(language);
        }
        match languages[..] {
            [first] => Ok(Languages {
                first,
                second: None,
            }),
            [first, second] => Ok(Languages {
                first,
                second: Some(second),
            }),
            _ => Err(format!(
                "language is one code or a list of two (the second under the headlines), \
                 from {}",
                known()
            )),
        }
    }

    /// The page's strings: `{"lang": "fr", "second": "en", "t": {"total":
    /// ["Total"], "welcome": ["Bienvenue", "Welcome"], …}}`.
    pub fn page_strings(&self) -> Value {
        let first = self.first.strings();
        let second = self.second.map(Language::strings);
        let pick = |s: &Strings| -> Vec<(&'static str, &'static str)> {
            vec![
                ("welcome", s.welcome),
                ("item", s.item),
                ("qty", s.qty),
                ("price", s.price),
                ("amount", s.amount),
                ("total", s.total),
                ("discount", s.discount),
                ("tax", s.tax),
                ("note", s.note),
                ("scan_to_pay", s.scan_to_pay),
                ("paid", s.paid),
                ("failed", s.failed),
                ("cancelled", s.cancelled),
                ("reconnecting", s.reconnecting),
            ]
        };
        let mut table = Map::new();
        let seconds = second.map(pick);
        for (i, (key, text)) in pick(first).into_iter().enumerate() {
            let mut texts = vec![text];
            if let Some(seconds) = &seconds {
                if HEADLINES.contains(&key) {
                    texts.push(seconds[i].1);
                }
            }
            table.insert(key.into(), json!(texts));
        }
        json!({
            "lang": self.first.tag(),
            "second": self.second.map(Language::tag),
            "t": table,
        })
    }
}

/// `value` as JSON safe inside an HTML `<script type="application/json">`
/// block: no `<`, `>` or `&` appears, so nothing in it can close the block
/// or open markup.
pub fn json_for_html(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use kassa_hal::Currency;

    use super::*;

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::from_code(code).unwrap())
    }

    #[test]
    fn amounts_follow_each_market_and_the_currency_digits() {
        use Language::*;
        let cases = [
            (En, 350, "EUR", "€3.50"),
            (De, 350, "EUR", "3,50\u{a0}€"),
            (Fr, 350, "EUR", "3,50\u{a0}€"),
            (Es, 350, "EUR", "3,50\u{a0}€"),
            (En, 123_456, "EUR", "€1,234.56"),
            (De, 123_456, "EUR", "1.234,56\u{a0}€"),
            (Fr, 123_456, "EUR", "1\u{202f}234,56\u{a0}€"),
            (Es, 123_456, "EUR", "1234,56\u{a0}€"),
            (Es, 1_234_567, "EUR", "12.345,67\u{a0}€"),
            (Zh, 3600, "CNY", "¥36.00"),
            (Zh, 99_999_999_999_999, "CNY", "¥999,999,999,999.99"),
            (Ja, 1200, "JPY", "¥1,200"),
            (Ja, 980, "JPY", "¥980"),
            (De, 1200, "JPY", "1.200\u{a0}¥"),
            (En, 1500, "KWD", "KD\u{a0}1.500"),
            (En, 350, "CHF", "CHF\u{a0}3.50"),
            (De, 350, "CHF", "3,50\u{a0}CHF"),
            (En, -500, "CNY", "-¥5.00"),
            (Fr, -500, "EUR", "-5,00\u{a0}€"),
            (En, 0, "EUR", "€0.00"),
            (En, 5, "USD", "$0.05"),
        ];
        for (language, minor, code, expected) in cases {
            assert_eq!(
                language.format_money(&money(minor, code)),
                expected,
                "{language:?} {minor} {code}"
            );
        }
        // Any amount at all: never a panic, the digits all there.
        let huge = En.format_money(&money(i64::MIN, "CNY"));
        assert_eq!(huge, "-¥92,233,720,368,547,758.08");
    }

    #[test]
    fn quantities_take_the_languages_separators() {
        assert_eq!(Language::De.format_quantity("0.455"), "0,455");
        assert_eq!(Language::Fr.format_quantity("2"), "2");
        assert_eq!(Language::En.format_quantity("0.455"), "0.455");
        assert_eq!(Language::De.format_quantity("123456.5"), "123.456,5");
        assert_eq!(Language::Es.format_quantity("1234"), "1234");
        // Not a plain decimal (an order built by hand): shown as it is.
        for odd in ["", ".5", "1.", "1.2.3", "-1", "1e3", "١٢"] {
            assert_eq!(Language::De.format_quantity(odd), odd);
        }
    }

    #[test]
    fn the_default_is_the_screen_as_it_was() {
        let strings = Languages::default().page_strings();
        assert_eq!(strings["lang"], "en");
        assert_eq!(strings["second"], "zh-Hans");
        assert_eq!(strings["t"]["welcome"], json!(["Welcome", "欢迎光临"]));
        assert_eq!(
            strings["t"]["scan_to_pay"],
            json!(["Scan to pay", "扫码支付"])
        );
        assert_eq!(strings["t"]["paid"], json!(["Paid", "支付成功"]));
        assert_eq!(strings["t"]["item"], json!(["Item"]));
        assert_eq!(strings["t"]["reconnecting"], json!(["Reconnecting…"]));
        assert_eq!(
            Language::En.format_money(&money(5419, "CNY")),
            money(5419, "CNY").to_string()
        );
    }

    #[test]
    fn every_language_has_every_string() {
        for language in Language::ALL {
            let one = Languages {
                first: language,
                second: None,
            };
            let strings = one.page_strings();
            let table = strings["t"].as_object().unwrap();
            assert_eq!(table.len(), 14);
            for (key, texts) in table {
                let text = texts[0].as_str().unwrap();
                assert!(!text.is_empty(), "{language:?} {key}");
                assert_eq!(texts.as_array().unwrap().len(), 1);
            }
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::Fr.count_items(1), "1 article");
        assert_eq!(Language::Fr.count_items(0), "0 article");
        assert_eq!(Language::En.count_items(0), "0 items");
        assert_eq!(Language::De.count_items(3), "3 Artikel");
        assert_eq!(Language::Ja.count_items(3), "3点");
        assert_eq!(Language::Es.count_items(2), "2 artículos");
    }

    #[test]
    fn the_configured_codes_are_checked() {
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Languages::parse(&codes(&["fr"])),
            Ok(Languages {
                first: Language::Fr,
                second: None
            })
        );
        assert_eq!(
            Languages::parse(&codes(&["de", "en"])),
            Ok(Languages {
                first: Language::De,
                second: Some(Language::En)
            })
        );
        let e = Languages::parse(&codes(&["pt"])).unwrap_err();
        assert!(
            e.contains("\"pt\"") && e.contains("en, zh, de, fr, es, ja"),
            "{e}"
        );
        let e = Languages::parse(&codes(&["FR"])).unwrap_err();
        assert!(e.contains("\"FR\""), "{e}");
        assert!(Languages::parse(&codes(&["en", "en"])).is_err());
        assert!(Languages::parse(&codes(&[])).is_err());
        assert!(Languages::parse(&codes(&["en", "fr", "de"])).is_err());
        // A hostile code is shown cut short, quoted.
        let e = Languages::parse(&codes(&[&"x\n".repeat(1000)])).unwrap_err();
        assert!(e.len() < 200 && !e.contains('\n'), "{e}");
    }

    #[test]
    fn page_json_cannot_close_its_script_block() {
        let json = json_for_html(&json!({"a": "</script><b>&amp;"}));
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "</script><b>&amp;");
    }
}
