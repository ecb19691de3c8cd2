//! The Prometheus text exposition format (version 0.0.4), written by hand:
//! kassad exposes a few dozen series, not worth a client library.
//!
//! Metric and label names are kassad's own constants, checked here all
//! the same. Label values come from the configuration (device names), so
//! they are escaped as the format asks (`\\`, `\"`, `\n`), and any other
//! control character, which some parsers take for a line end, becomes
//! U+FFFD: no value can end a line or a quoted string early.

use std::fmt::Write as _;

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until kassad restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into fixed buckets.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Int(u64),
    /// A measurement, such as seconds.
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

/// An exposition being written: families one after the other, each its
/// `# HELP` and `# TYPE` lines and then its samples.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts the family `name`; its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        debug_assert!(is_metric_name(name), "metric name {name:?}");
        let _ = write!(self.out, "# HELP {name} ");
        for c in help.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c if c.is_control() => self.out.push('\u{FFFD}'),
                c => self.out.push(c),
            }
        }
        let _ = writeln!(self.out, "\n# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the family just started: `name` is the family's name,
    /// or with `_bucket`, `_sum` or `_count` for a histogram.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<Value>) {
        debug_assert!(is_metric_name(name), "metric name {name:?}");
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                debug_assert!(is_label_name(label), "label name {label:?}");
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                push_label_value(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = match value.into() {
            Value::Int(v) => writeln!(self.out, " {v}"),
            Value::Float(v) if v.is_nan() => writeln!(self.out, " NaN"),
            Value::Float(v) if v.is_infinite() => {
                writeln!(self.out, " {}Inf", if v > 0.0 { "+" } else { "-" })
            }
            Value::Float(v) => writeln!(self.out, " {v}"),
        };
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Appends `value` escaped for a quoted label value.
fn push_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__` (reserved).
pub fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    !name.starts_with("__")
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One parsed sample line: name, labels (unescaped), value text.
    pub(crate) type Parsed = (String, Vec<(String, String)>, String);

    /// Parses an exposition strictly, as Prometheus would: every line a
    /// comment (`# HELP`, `# TYPE`) or a sample of the family last typed,
    /// names valid, label values quoted and escaped, values numbers.
    /// Panics on anything else; returns the samples.
    pub(crate) fn parse(text: &str) -> Vec<Parsed> {
        assert!(text.ends_with('\n'), "the exposition ends with a line end");
        let mut family = String::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, _help) = rest.split_once(' ').expect("HELP name text");
                assert!(is_metric_name(name), "{line}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert!(is_metric_name(name), "{line}");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                family = name.to_string();
            } else {
                let sample = parse_sample(line);
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| sample.0.strip_suffix(s))
                    .filter(|base| *base == family)
                    .unwrap_or(&sample.0);
                assert_eq!(base, family, "sample outside its family: {line}");
                samples.push(sample);
            }
        }
        samples
    }

    fn parse_sample(line: &str) -> Parsed {
        let end = line.find(['{', ' ']).expect("name ends");
        let name = &line[..end];
        assert!(is_metric_name(name), "{line}");
        let (labels, rest) = match line[end..].strip_prefix('{') {
            Some(inner) => parse_labels_from(inner, line),
            None => (Vec::new(), &line[end..]),
        };
        let value = rest.strip_prefix(' ').expect("one space before the value");
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "value {value:?} in {line}"
        );
        (name.to_string(), labels, value.to_string())
    }

    /// The labels from `text` (just after a `{` or `,`) to the closing `}`;
    /// what follows it.
    fn parse_labels_from<'a>(text: &'a str, line: &str) -> (Vec<(String, String)>, &'a str) {
        let mut labels = Vec::new();
        let mut rest = text;
        loop {
            let eq = rest.find("=\"").expect("label=\"");
            let label = &rest[..eq];
            assert!(is_label_name(label), "{line}");
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let close = loop {
                let (i, c) = chars.next().expect("closing quote");
                match c {
                    '"' => break eq + 2 + i,
                    '\\' => match chars.next().expect("escape").1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("bad escape \\{other} in {line}"),
                    },
                    c => {
                        assert!(!c.is_control(), "raw control character in {line:?}");
                        value.push(c);
                    }
                }
            };
            labels.push((label.to_string(), value));
            match rest[close + 1..].chars().next() {
                Some(',') => rest = &rest[close + 2..],
                Some('}') => return (labels, &rest[close + 2..]),
                _ => panic!("labels not closed in {line}"),
            }
        }
    }

    #[test]
    fn label_values_are_escaped_so_that_nothing_breaks_the_line() {
        let hostile = "a\\b\"c\nd\re\u{0}f}g,h=\"i\" 1\n# TYPE x counter";
        let mut out = Exposition::new();
        out.family("kassa_t_total", Kind::Counter, "test");
        out.sample(
            "kassa_t_total",
            &[("device", hostile), ("role", "scanner")],
            7u64,
        );
        let text = out.finish();
        assert_eq!(text.lines().count(), 3, "{text}");
        let samples = parse(&text);
        assert_eq!(samples.len(), 1);
        let (name, labels, value) = &samples[0];
        assert_eq!(name, "kassa_t_total");
        assert_eq!(value, "7");
        // Backslash, quote and newline come back as they were; the other
        // control characters as U+FFFD.
        assert_eq!(
            labels[0],
            (
                "device".into(),
                "a\\b\"c\nd\u{FFFD}e\u{FFFD}f}g,h=\"i\" 1\n# TYPE x counter".into()
            )
        );
        assert_eq!(labels[1], ("role".into(), "scanner".into()));
        assert!(text.contains(r#"device="a\\b\"c\nd"#), "{text}");
    }

    #[test]
    fn help_text_is_escaped_and_the_type_follows() {
        let mut out = Exposition::new();
        out.family("kassa_t", Kind::Gauge, "line one\nline \\two\r");
        out.sample("kassa_t", &[], 1u64);
        let text = out.finish();
        assert_eq!(
            text,
            "# HELP kassa_t line one\\nline \\\\two\u{FFFD}\n# TYPE kassa_t gauge\nkassa_t 1\n"
        );
        parse(&text);
    }

    #[test]
    fn values_are_written_as_prometheus_reads_them() {
        let mut out = Exposition::new();
        out.family("kassa_t", Kind::Gauge, "t");
        out.sample("kassa_t", &[("v", "int")], u64::MAX);
        out.sample("kassa_t", &[("v", "small")], 0.000_123_f64);
        out.sample("kassa_t", &[("v", "whole")], 3.0_f64);
        out.sample("kassa_t", &[("v", "inf")], f64::INFINITY);
        out.sample("kassa_t", &[("v", "nan")], f64::NAN);
        let values: Vec<String> = parse(&out.finish()).into_iter().map(|s| s.2).collect();
        assert_eq!(
            values,
            ["18446744073709551615", "0.000123", "3", "+Inf", "NaN"]
        );
    }

    #[test]
    fn names_are_checked_as_the_format_defines_them() {
        for good in ["kassa_scans_total", "_x", "a:b", "A9"] {
            assert!(is_metric_name(good), "{good}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a{"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
        for good in ["device", "_x", "le", "A9"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "9a", "a:b", "__name__", "a-b"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_checking_parser_refuses_what_would_break_a_scrape() {
        for broken in [
            "kassa_t{device=\"a\"b\"} 1\n",
            "kassa_t{device=\"a\\q\"} 1\n",
            "kassa_t{device=\"a} 1\n",
            "kassa_t 1 2 3\n",
            "kassa_t{9x=\"a\"} 1\n",
        ] {
            let text = format!("# TYPE kassa_t gauge\n{broken}");
            assert!(
                std::panic::catch_unwind(|| parse(&text)).is_err(),
                "{broken:?} passed"
            );
        }
    }
}
