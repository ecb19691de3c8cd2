//! Reading one table of settings: which keys a settings struct takes comes
//! from the struct's own `Deserialize` derive, so no key is listed twice;
//! a key no struct of the table took is refused with the closest valid one.

use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

/// The names a `Deserialize` derive declares, in declaration order: a
/// struct's keys, or an enum's variants.
///
/// The derive passes them to `deserialize_struct` or `deserialize_enum`;
/// this asks for them and stops there. Any other type has none.
pub(crate) fn names_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names = None;
    let _ = T::deserialize(Names(&mut names));
    names.unwrap_or(&[])
}

/// A deserializer that only records the names it is asked for.
struct Names<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for Names<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("only the names were wanted"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(variants);
        Err(de::Error::custom("only the names were wanted"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

/// A mistake in a table: where (a byte offset in the file) and what.
#[derive(Debug)]
pub(crate) struct Mistake {
    pub at: Option<usize>,
    pub message: String,
}

/// One table of the file (`[[scanner]]`, `[[display]]`) being read: each
/// settings struct takes the keys it declares, and what is left over is a
/// mistake.
pub(crate) struct Table<'i> {
    span: Range<usize>,
    left: DeTable<'i>,
    taken: Vec<&'static str>,
}

impl<'i> Table<'i> {
    pub(crate) fn new(span: Range<usize>, entries: DeTable<'i>) -> Self {
        Table {
            span,
            left: entries,
            taken: Vec::new(),
        }
    }

    /// Where the table starts in the file.
    pub(crate) fn start(&self) -> usize {
        self.span.start
    }

    /// The keys taken so far: those the table's structs declare.
    pub(crate) fn taken(&self) -> &[&'static str] {
        &self.taken
    }

    /// Takes the keys `T` declares out of the table and reads them. A bad
    /// value is refused at its line, naming `what` and its key.
    pub(crate) fn take<T: Deserialize<'i>>(&mut self, what: &str) -> Result<T, Mistake> {
        let keys = names_of::<T>();
        self.taken.extend_from_slice(keys);
        let mut mine = DeTable::new();
        let mut values = Vec::new();
        for key in keys {
            if let Some((k, v)) = self.left.remove_entry(*key) {
                values.push((*key, v.span()));
                mine.insert(k, v);
            }
        }
        T::deserialize(Deserializer::from(Spanned::new(self.span.clone(), mine))).map_err(|e| {
            let at = e.span().map(|s| s.start);
            let key = at.and_then(|at| {
                values
                    .iter()
                    .find(|(_, span)| span.contains(&at))
                    .map(|(key, _)| *key)
            });
            let message = e.message().trim_end();
            Mistake {
                at: at.or(Some(self.span.start)),
                message: match key {
                    Some(key) => format!("{what}: {key}: {message}"),
                    None => format!("{what}: {message}"),
                },
            }
        })
    }

    /// The value of `key` if it is a string, untaken.
    pub(crate) fn string(&self, key: &str) -> Option<&str> {
        match self.left.get(key).map(Spanned::get_ref) {
            Some(DeValue::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The first key (in file order) that nothing took, with its offset.
    fn left_over(&self) -> Option<(String, usize)> {
        self.left
            .keys()
            .map(|k| (k.get_ref().to_string(), k.span().start))
            .min_by_key(|(_, at)| *at)
    }
}

/// The drivers of one kind of device (scanners, displays): an enum whose
/// variants are the values of `driver`, each with its own settings.
pub(crate) trait Drivers: for<'de> Deserialize<'de> + Copy + PartialEq {
    /// One driver's settings as written.
    type Raw;

    /// Takes this driver's settings out of `table`; `what` names the table
    /// in errors.
    fn take(self, table: &mut Table<'_>, what: &str) -> Result<Self::Raw, Mistake>;

    /// Why a setting of driver `other` means nothing to this one, if
    /// there is more to say than that.
    fn why_not(self, _other: Self) -> Option<&'static str> {
        None
    }
}

/// Every driver of `D`, with its name as the file writes it.
fn drivers<D: Drivers>() -> impl Iterator<Item = (&'static str, D)> {
    names_of::<D>().iter().filter_map(|name| {
        D::deserialize(de::value::StrDeserializer::<de::value::Error>::new(name))
            .ok()
            .map(|driver| (*name, driver))
    })
}

/// The name of `driver` as the file writes it.
pub(crate) fn name_of<D: Drivers>(driver: D) -> &'static str {
    drivers::<D>()
        .find(|(_, d)| *d == driver)
        .map_or("", |(name, _)| name)
}

/// The keys driver `driver`'s own settings declare.
fn keys_of_driver<D: Drivers>(driver: D) -> Vec<&'static str> {
    let mut table = Table::new(0..0, DeTable::new());
    let _ = driver.take(&mut table, "");
    table.taken
}

/// Reads `driver`'s settings from `table`, whose common keys (`name`,
/// `driver`, …) are taken already, and refuses any key left: naming the
/// drivers that take it, or else the closest key this one takes.
pub(crate) fn read<D: Drivers>(
    mut table: Table<'_>,
    what: &str,
    driver: D,
) -> Result<D::Raw, Mistake> {
    let raw = driver.take(&mut table, what)?;
    let Some((key, at)) = table.left_over() else {
        return Ok(raw);
    };
    let name = name_of(driver);
    let mut message = format!("{what}: {key} is not a setting of driver {name:?}");
    let others: Vec<(&str, D)> = drivers::<D>()
        .filter(|(_, d)| *d != driver && keys_of_driver(*d).contains(&key.as_str()))
        .collect();
    if let Some((_, other)) = others.first() {
        let names: Vec<String> = others.iter().map(|(n, _)| format!("{n:?}")).collect();
        let plural = if others.len() > 1 { "s" } else { "" };
        message += &format!(" but of driver{plural} {}", names.join(", "));
        if let Some(why) = driver.why_not(*other) {
            message += &format!(" ({why})");
        }
    } else if let Some(close) = closest(&key, table.taken()) {
        message += &format!("; did you mean `{close}`?");
    } else {
        message += &format!("; it takes {}", table.taken().join(", "));
    }
    Err(Mistake {
        at: Some(at),
        message,
    })
}

/// The key of `valid` closest to `key`, if it is close enough to be what
/// was meant.
pub(crate) fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    let len = key.chars().count();
    valid
        .iter()
        .map(|v| (distance(key, v), *v))
        .filter(|(d, v)| *d <= 2.max(len.max(v.len()) / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Edit distance counting an insertion, deletion, substitution, or a swap
/// of two neighbours (`layuot`) as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows suffice.
    let mut before = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Two {
        baud: Option<u32>,
        #[serde(rename = "stop_bits")]
        stop: Option<u8>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Drivers {
        Serial,
        HidPos,
    }

    #[test]
    fn names_come_from_the_derive() {
        assert_eq!(names_of::<Two>(), ["baud", "stop_bits"]);
        assert_eq!(names_of::<Drivers>(), ["serial", "hidpos"]);
        assert!(names_of::<u32>().is_empty());
    }

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(distance("bauds", "baud"), 1);
        assert_eq!(distance("layuot", "layout"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
        let valid = ["path", "baud", "parity", "stop_bits"];
        assert_eq!(closest("bauds", &valid), Some("baud"));
        assert_eq!(closest("stopbits", &valid), Some("stop_bits"));
        assert_eq!(closest("colour", &valid), None);
    }
}
