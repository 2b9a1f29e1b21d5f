//! `/metrics`: the Prometheus exposition of every channel, player and
//! receiver of a [`StreamManager`], built on `prometheus-client`.
//!
//! A fresh registry is built from the manager's snapshots at each scrape,
//! so a connection that closed, an output removed or a stream removed has
//! no series any more. Names carry the `srtstreamer_` prefix and base
//! units (seconds, bytes, bits per second); counters end in `_total`.
//! Labels are bounded: `kind` (`channel`, `player`, `receiver`), `channel`
//! (its name), `input` or `output` (its index) and `type`, and for an SRT
//! connection `peer` (address) and `stream_id` (the resource only). No
//! URI, passphrase or other stream-ID key is ever a label.
//!
//! [`render`] writes the classic text format (0.0.4) that every Prometheus
//! and `promtool check metrics` read; [`render_openmetrics`] the
//! OpenMetrics text, for scrapers that ask for it.

mod channels;
mod families;
mod readings;
mod srt;
mod streams;

use crate::engine::StreamManager;
pub use families::METRIC_NAMES;
use families::{Families, Labels};
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
pub use readings::{ChannelReading, Readings, ReceiverReading};
use std::collections::HashSet;

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;
/// The `Content-Type` of [`render_openmetrics`]'s text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of `manager` now, in Prometheus' classic text format.
pub fn render(manager: &StreamManager) -> String {
    render_readings(&Readings::of(manager))
}

/// Every metric of `manager` now, as OpenMetrics text (ends with `# EOF`).
pub fn render_openmetrics(manager: &StreamManager) -> String {
    openmetrics_readings(&Readings::of(manager))
}

/// The OpenMetrics text of `readings`.
fn openmetrics_readings(readings: &Readings) -> String {
    let registry = collect(readings);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = text::encode(&mut out, &registry);
    out
}

/// The classic text of `readings` (taken with [`Readings::of`] while the
/// manager was locked; encoded after it is released).
pub fn render_readings(readings: &Readings) -> String {
    let registry = collect(readings);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_text::encode(&mut out, &registry);
    out
}

/// The text for a request's `Accept` header: OpenMetrics when the scraper
/// asks for it, else the classic format. Returns (content type, body).
pub fn render_for(manager: &StreamManager, accept: Option<&str>) -> (&'static str, String) {
    encode_for(&Readings::of(manager), accept)
}

/// [`render_for`] of `readings` taken earlier (the manager's lock released
/// before the 3–7 ms of encoding 50 channels).
pub fn encode_for(readings: &Readings, accept: Option<&str>) -> (&'static str, String) {
    if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
        (OPENMETRICS_CONTENT_TYPE, openmetrics_readings(readings))
    } else {
        (CONTENT_TYPE, render_readings(readings))
    }
}

fn collect(readings: &Readings) -> Registry {
    let mut scrape = Scrape::default();
    for c in &readings.channels {
        channels::add(&mut scrape, c);
    }
    for p in &readings.players {
        streams::add_player(&mut scrape, p);
    }
    for r in &readings.receivers {
        streams::add_receiver(&mut scrape, r);
    }
    let mut registry = Registry::with_prefix("srtstreamer");
    scrape.f.register(&mut registry);
    registry.register(
        "build",
        "The program's version",
        Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
    );
    registry
}

/// One scrape being filled.
#[derive(Default)]
pub(crate) struct Scrape {
    pub(crate) f: Families,
    /// (kind, name) already used: a second thing of the same name gets its id.
    names: HashSet<(&'static str, String)>,
}

impl Scrape {
    /// The labels of a channel, player or receiver: `kind` and a name that
    /// is unique among its kind.
    pub(crate) fn owner(&mut self, kind: &'static str, name: &str, id: u64) -> Labels {
        let mut name = name.to_string();
        if !self.names.insert((kind, name.clone())) {
            name = format!("{name} #{id}");
            self.names.insert((kind, name.clone()));
        }
        vec![("kind", kind.to_string()), ("channel", name)]
    }
}

/// `base` with more labels.
pub(crate) fn with(base: &Labels, more: &[(&'static str, String)]) -> Labels {
    let mut l = base.clone();
    l.extend_from_slice(more);
    l
}

/// Sets a counter series to `v` (fresh each scrape).
pub(crate) fn count(f: &families::Counters, labels: &Labels, v: u64) {
    f.get_or_create(labels).inc_by(v);
}

/// Sets a gauge series to `v`.
pub(crate) fn gauge(f: &families::Gauges, labels: &Labels, v: f64) {
    f.get_or_create(labels).set(v);
}

/// 1.0 for true.
pub(crate) fn one(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}
