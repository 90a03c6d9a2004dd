//! Prometheus metrics: requests by route, method and status, a latency histogram per route,
//! and the database pool's usage, rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::db::PoolUsage;
use crate::db::types::{OutboxKind, OutboxState};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency histogram.
    latency: BTreeMap<String, Histogram>,
}

#[derive(Debug, Clone)]
struct Histogram {
    /// Cumulative counts, one per bucket of `BUCKETS`.
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; BUCKETS.len()],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

impl Metrics {
    /// Records one finished request. `route` is the matched pattern (`/updates/{id}`), so that
    /// the number of series stays bounded.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *inner
            .requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        inner
            .latency
            .entry(route.to_owned())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition text.
    pub fn render(&self, pool: PoolUsage) -> String {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP pipal_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE pipal_http_requests_total counter\n");
        for ((route, method, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "pipal_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        out.push_str(
            "# HELP pipal_http_request_duration_seconds Time to answer HTTP requests, by route.\n",
        );
        out.push_str("# TYPE pipal_http_request_duration_seconds histogram\n");
        for (route, histogram) in &inner.latency {
            let route = escape(route);
            for (bound, count) in BUCKETS.iter().zip(&histogram.buckets) {
                let _ = writeln!(
                    out,
                    "pipal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "pipal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "pipal_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "pipal_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out.push_str("# HELP pipal_db_pool_max_connections Largest size of the database pool.\n");
        out.push_str("# TYPE pipal_db_pool_max_connections gauge\n");
        let _ = writeln!(out, "pipal_db_pool_max_connections {}", pool.size);
        out.push_str("# HELP pipal_db_pool_connections Open database connections, by state.\n");
        out.push_str("# TYPE pipal_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "pipal_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "pipal_db_pool_connections{{state=\"in_use\"}} {}",
            pool.connections.saturating_sub(pool.idle)
        );
        out
    }
}

/// Outbox entries by kind and state: a growing `failed` count means something needs
/// `pipal outbox list`; every kind and state is present, at 0 when there is none.
pub fn outbox_gauges(counts: &[(OutboxKind, OutboxState, i64)]) -> String {
    let mut out = String::from(
        "# HELP pipal_outbox_entries Outbox entries (messages, mails, bug changes) by kind and state.\n\
         # TYPE pipal_outbox_entries gauge\n",
    );
    for kind in [OutboxKind::Message, OutboxKind::Mail, OutboxKind::Bug] {
        for state in [
            OutboxState::Pending,
            OutboxState::Failed,
            OutboxState::Delivered,
        ] {
            let count = counts
                .iter()
                .find(|(k, s, _)| *k == kind && *s == state)
                .map_or(0, |(_, _, n)| *n);
            let _ = writeln!(
                out,
                "pipal_outbox_entries{{kind=\"{kind}\",state=\"{state}\"}} {count}"
            );
        }
    }
    out
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.observe_request("/a", "GET", 200, Duration::from_millis(3));
        metrics.observe_request("/a", "GET", 200, Duration::from_millis(30));
        metrics.observe_request("/a", "GET", 404, Duration::from_secs(20));
        let text = metrics.render(PoolUsage {
            size: 10,
            connections: 3,
            idle: 2,
        });
        assert!(
            text.contains(
                "pipal_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2"
            )
        );
        assert!(
            text.contains(
                "pipal_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1"
            )
        );
        assert!(
            text.contains("pipal_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.05\"} 2")
        );
        assert!(
            text.contains("pipal_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3")
        );
        assert!(text.contains("pipal_db_pool_connections{state=\"in_use\"} 1"));
    }
}
