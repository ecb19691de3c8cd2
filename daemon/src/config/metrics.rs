//! The `[metrics]` section: kassad's counters in the Prometheus text
//! format, off unless the section is there.

use serde::Deserialize;

use crate::metrics::MetricsConfig;

/// Where the metrics are served unless `listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8767";

/// `[metrics]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    listen: Option<String>,
}

impl RawMetrics {
    /// The validated section.
    pub(super) fn settings(self) -> Result<MetricsConfig, String> {
        let listen = super::values::loopback_listen(
            self.listen.as_deref(),
            DEFAULT_LISTEN,
            "the metrics are served \
                 to this machine only: use 127.0.0.1 or [::1] (a Prometheus elsewhere reads \
                 them through node_exporter's textfile collector or a local agent, see \
                 docs/metrics.md)",
        )?;
        Ok(MetricsConfig { listen })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn err(text: &str) -> String {
        Config::parse(text, "kassa.toml").unwrap_err().to_string()
    }

    #[test]
    fn metrics_are_off_unless_configured_and_served_on_loopback_only() {
        assert!(Config::parse("", "kassa.toml").unwrap().metrics.is_none());
        let on = Config::parse("[metrics]\n", "kassa.toml").unwrap();
        assert_eq!(
            on.metrics.unwrap().listen,
            super::DEFAULT_LISTEN.parse().unwrap()
        );
        let v6 = Config::parse("[metrics]\nlisten = \"[::1]:9100\"\n", "kassa.toml").unwrap();
        assert_eq!(v6.metrics.unwrap().listen, "[::1]:9100".parse().unwrap());

        let e = err("\n[metrics]\nlisten = \"0.0.0.0:8767\"\n");
        assert!(
            e.starts_with(
                "kassa.toml:2: [metrics] listen 0.0.0.0:8767 is reachable from other machines"
            ),
            "{e}"
        );
        let e = err("[metrics]\nlisten = \"192.168.1.20:8767\"\n");
        assert!(e.contains("use 127.0.0.1 or [::1]"), "{e}");
        let e = err("[metrics]\nlisten = \"localhost:8767\"\n");
        assert!(e.contains("is not an address and port"), "{e}");
        let e = err("[metrics]\nport = 8767\n");
        assert!(e.contains("port"), "{e}");
    }
}
