//! Counters and histograms the process keeps; catalog-api renders them as Prometheus text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histograms.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                self.counts[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// (hook, HTTP status) -> requests
    hook_requests: Mutex<BTreeMap<(String, u16), u64>>,
    pub hook_items: AtomicU64,
    pub hook_ack_latency: Histogram,
    pub inbox_commits: AtomicU64,
    pub worker_latency: Histogram,
    pub worker_items: AtomicU64,
    pub worker_failures: AtomicU64,
    pub worker_parked: AtomicU64,
    /// Events of id-less senders (Quay, Artifactory) that changed nothing and were not recorded.
    pub worker_unchanged: AtomicU64,
    pub registry_fetches: AtomicU64,
    pub events_recorded: AtomicU64,
    pub reconcile_runs: AtomicU64,
    pub reconcile_registered: AtomicU64,
    pub snapshots_written: AtomicU64,
    /// The newest snapshot this process wrote: its log position, size and cost.
    pub snapshot_seq: AtomicU64,
    pub snapshot_bytes: AtomicU64,
    pub snapshot_write_micros: AtomicU64,
}

/// Gauges read at scrape time.
#[derive(Debug, Default)]
pub struct Gauges {
    pub inbox_pending: i64,
    pub inbox_parked: i64,
    pub graph_nodes: usize,
    pub graph_edges: usize,
    pub graph_seq: i64,
}

impl Metrics {
    pub fn hook_request(&self, hook: &str, status: u16) {
        if let Ok(mut m) = self.hook_requests.lock() {
            *m.entry((hook.to_string(), status)).or_default() += 1;
        }
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP catalog_hook_requests_total Webhook requests by hook and HTTP status."
        );
        let _ = writeln!(out, "# TYPE catalog_hook_requests_total counter");
        if let Ok(m) = self.hook_requests.lock() {
            for ((hook, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "catalog_hook_requests_total{{hook=\"{hook}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        counter(
            &mut out,
            "catalog_hook_items_total",
            "Items accepted into the inbox.",
            &self.hook_items,
        );
        self.hook_ack_latency.render(
            &mut out,
            "catalog_hook_ack_seconds",
            "Time from request to durable acknowledgement.",
        );
        counter(
            &mut out,
            "catalog_inbox_commits_total",
            "Inbox group commits.",
            &self.inbox_commits,
        );
        gauge(
            &mut out,
            "catalog_inbox_depth",
            "Inbox items waiting to be processed.",
            g.inbox_pending.to_string(),
        );
        gauge(
            &mut out,
            "catalog_inbox_parked",
            "Inbox items parked after repeated failures.",
            g.inbox_parked.to_string(),
        );
        self.worker_latency.render(
            &mut out,
            "catalog_worker_item_seconds",
            "Time from receipt to recorded, per inbox item.",
        );
        counter(
            &mut out,
            "catalog_worker_items_total",
            "Inbox items processed.",
            &self.worker_items,
        );
        counter(
            &mut out,
            "catalog_worker_failures_total",
            "Failed processing attempts.",
            &self.worker_failures,
        );
        counter(
            &mut out,
            "catalog_worker_parked_total",
            "Items parked.",
            &self.worker_parked,
        );
        counter(
            &mut out,
            "catalog_worker_unchanged_total",
            "Notifications without an event id that changed nothing, so recorded nothing.",
            &self.worker_unchanged,
        );
        counter(
            &mut out,
            "catalog_registry_fetches_total",
            "Images fetched from registries.",
            &self.registry_fetches,
        );
        counter(
            &mut out,
            "catalog_events_recorded_total",
            "Events appended to the log by this process.",
            &self.events_recorded,
        );
        counter(
            &mut out,
            "catalog_reconcile_runs_total",
            "Reconcile passes.",
            &self.reconcile_runs,
        );
        counter(
            &mut out,
            "catalog_reconcile_registered_total",
            "Tags the reconcile found missing or stale.",
            &self.reconcile_registered,
        );
        counter(
            &mut out,
            "catalog_snapshots_written_total",
            "Graph snapshots this process wrote.",
            &self.snapshots_written,
        );
        gauge(
            &mut out,
            "catalog_snapshot_seq",
            "Log position of the newest graph snapshot this process wrote.",
            self.snapshot_seq.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "catalog_snapshot_bytes",
            "Size of the newest graph snapshot this process wrote.",
            self.snapshot_bytes.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "catalog_snapshot_write_seconds",
            "Time the newest graph snapshot took to encode and store.",
            format!(
                "{}",
                self.snapshot_write_micros.load(Ordering::Relaxed) as f64 / 1e6
            ),
        );
        gauge(
            &mut out,
            "catalog_graph_nodes",
            "Nodes in the in-memory graph.",
            g.graph_nodes.to_string(),
        );
        gauge(
            &mut out,
            "catalog_graph_edges",
            "Edges in the in-memory graph.",
            g.graph_edges.to_string(),
        );
        gauge(
            &mut out,
            "catalog_graph_seq",
            "Last event sequence number in the graph.",
            g.graph_seq.to_string(),
        );
        out
    }
}
