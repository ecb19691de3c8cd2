//! Reading the file: the TOML, the `[[scanner]]` and `[[display]]` tables
//! each by its driver's settings, the sections, and errors that name the
//! file and the line.

use std::path::Path;

use kassa_hal::{ChannelRule, ChannelTable};
use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::backend::RawBackend;
use super::checkout::RawCheckout;
use super::display::RawDisplayCommon;
use super::keys::{self, Mistake, Table};
use super::metrics::RawMetrics;
use super::pos_api::RawPosApi;
use super::scanner::RawScannerCommon;
use super::{CheckoutConfig, Config, ConfigError, DisplayConfig, ScannerConfig};

/// The file's top level. `[[scanner]]` and `[[display]]` tables are read
/// one by one, each by its driver's own table of settings; they are here
/// only so that a misspelt top-level name lists them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    #[allow(dead_code)]
    scanner: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    display: Option<IgnoredAny>,
    backend: Option<Spanned<RawBackend>>,
    #[serde(default)]
    channel: Vec<Spanned<ChannelRule>>,
    checkout: Option<Spanned<RawCheckout>>,
    pos_api: Option<Spanned<RawPosApi>>,
    metrics: Option<Spanned<RawMetrics>>,
    allow_simulated: Option<bool>,
}

impl Config {
    /// Reads and validates `path`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] with the file, line and reason.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] with the file, line and reason.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let source = Source { text, file };
        let root = DeTable::parse(text).map_err(|e| source.toml_error(e))?;
        let span = root.span();
        let mut root = root.into_inner();
        let scanner_tables =
            tables(root.remove("scanner"), "scanner").map_err(|m| source.mistake(m))?;
        let display_tables =
            tables(root.remove("display"), "display").map_err(|m| source.mistake(m))?;
        let raw = RawFile::deserialize(toml::de::Deserializer::from(Spanned::new(span, root)))
            .map_err(|e| source.toml_error(e))?;

        let mut names = Names::default();
        let scanners = scanner_tables
            .into_iter()
            .map(|table| scanner(&source, &mut names, table))
            .collect::<Result<Vec<_>, _>>()?;
        let displays = display_tables
            .into_iter()
            .map(|table| display(&source, &mut names, table))
            .collect::<Result<Vec<_>, _>>()?;
        let backend = raw
            .backend
            .map(|spanned| source.section(spanned, "[backend]", RawBackend::settings))
            .transpose()?;
        let channels = channels(&source, raw.channel)?;
        let checkout = raw
            .checkout
            .map(|spanned| source.section(spanned, "[checkout]", RawCheckout::settings))
            .transpose()?
            .unwrap_or_else(CheckoutConfig::default);
        Ok(Config {
            scanners,
            displays,
            backend,
            channels,
            checkout,
            allow_simulated: raw.allow_simulated.unwrap_or(false),
            pos_api: raw
                .pos_api
                .map(|spanned| source.section(spanned, "[pos_api]", RawPosApi::settings))
                .transpose()?,
            metrics: raw
                .metrics
                .map(|spanned| source.section(spanned, "[metrics]", RawMetrics::settings))
                .transpose()?,
        })
    }
}

/// The text being read and the file it came from, for errors that name
/// the file and the line.
struct Source<'a> {
    text: &'a str,
    file: &'a str,
}

impl Source<'_> {
    /// An error at byte `offset` of the text, if one applies.
    fn at(&self, offset: Option<usize>, message: String) -> ConfigError {
        ConfigError {
            file: self.file.into(),
            line: offset.map(|o| line_of(self.text, o)),
            message,
        }
    }

    fn toml_error(&self, e: toml::de::Error) -> ConfigError {
        let message = e.message().trim_end().to_string();
        self.at(e.span().map(|s| s.start), message)
    }

    fn mistake(&self, m: Mistake) -> ConfigError {
        self.at(m.at, m.message)
    }

    /// Validates a section with `read`; its errors are prefixed with
    /// `name` and placed at the section's start.
    fn section<T, U>(
        &self,
        spanned: Spanned<T>,
        name: &str,
        read: impl FnOnce(T) -> Result<U, String>,
    ) -> Result<U, ConfigError> {
        let start = spanned.span().start;
        read(spanned.into_inner()).map_err(|m| self.at(Some(start), format!("{name} {m}")))
    }
}

/// The device names taken so far: scanners and displays share one
/// namespace, their D-Bus object paths.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    /// Takes `name` for a `kind` whose table starts at `start`: refused if
    /// it cannot be a D-Bus path element or is taken already.
    fn take(
        &mut self,
        source: &Source<'_>,
        name: &str,
        start: usize,
        kind: &str,
    ) -> Result<(), ConfigError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(source.at(
                Some(start),
                format!(
                    "{kind} name {name:?} must be letters, digits and '_' (it becomes a D-Bus object path)"
                ),
            ));
        }
        if self.0.iter().any(|n| n == name) {
            return Err(source.at(Some(start), format!("{kind} name {name:?} is used twice")));
        }
        self.0.push(name.into());
        Ok(())
    }
}

/// One `[[scanner]]` table, read by its driver's settings.
fn scanner(
    source: &Source<'_>,
    names: &mut Names,
    mut table: Table<'_>,
) -> Result<ScannerConfig, ConfigError> {
    let start = table.start();
    let what = table
        .string("name")
        .map_or_else(|| "scanner".to_string(), |n| format!("scanner {n:?}"));
    let common: RawScannerCommon = table.take(&what).map_err(|m| source.mistake(m))?;
    let raw = keys::read(table, &what, *common.driver.get_ref()).map_err(|m| source.mistake(m))?;
    names.take(source, &common.name, start, "scanner")?;
    let driver = raw
        .settings()
        .map_err(|m| source.at(Some(start), format!("{what}: {m}")))?;
    Ok(ScannerConfig {
        name: common.name,
        driver,
    })
}

/// One `[[display]]` table, read by its driver's settings.
fn display(
    source: &Source<'_>,
    names: &mut Names,
    mut table: Table<'_>,
) -> Result<DisplayConfig, ConfigError> {
    let start = table.start();
    let what = table
        .string("name")
        .map_or_else(|| "display".to_string(), |n| format!("display {n:?}"));
    let common: RawDisplayCommon = table.take(&what).map_err(|m| source.mistake(m))?;
    let raw = keys::read(table, &what, *common.driver.get_ref()).map_err(|m| source.mistake(m))?;
    names.take(source, &common.name, start, "display")?;
    let invalid = |m: String| source.at(Some(start), format!("{what}: {m}"));
    let deadline = common.deadline().map_err(invalid)?;
    let driver = raw.settings(deadline).map_err(invalid)?;
    Ok(DisplayConfig {
        name: common.name,
        driver,
        deadline,
    })
}

/// The `[[channel]]` rules, each validated, before the built-in ones.
fn channels(
    source: &Source<'_>,
    channel: Vec<Spanned<ChannelRule>>,
) -> Result<ChannelTable, ConfigError> {
    let mut rules = Vec::new();
    for spanned in channel {
        let start = spanned.span().start;
        let rule = spanned.into_inner();
        rule.validate().map_err(|m| {
            source.at(
                Some(start),
                format!("channel {:?}: {m}", rule.channel.as_str()),
            )
        })?;
        rules.push(rule);
    }
    ChannelTable::builtin_with(rules).map_err(|m| source.at(None, m))
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The tables of `[[kind]]`, each to be read by its driver's settings.
fn tables<'i>(value: Option<Spanned<DeValue<'i>>>, kind: &str) -> Result<Vec<Table<'i>>, Mistake> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let span = value.span();
    let DeValue::Array(array) = value.into_inner() else {
        return Err(Mistake {
            at: Some(span.start),
            message: format!("{kind} must be a list of tables, each written [[{kind}]]"),
        });
    };
    array
        .into_iter()
        .map(|item| {
            let span = item.span();
            match item.into_inner() {
                DeValue::Table(table) => Ok(Table::new(span, table)),
                _ => Err(Mistake {
                    at: Some(span.start),
                    message: format!("each {kind} must be a table, written [[{kind}]]"),
                }),
            }
        })
        .collect()
}
