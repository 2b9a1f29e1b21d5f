//! An analyze output: the receiver's TR 101 290 analyzer on what the
//! channel sends, timed by each datagram's schedule (the input's own
//! timing, not when this thread got to it). The report, refreshed every
//! second, is in the output's snapshot; new errors are an alarm (at most
//! every [`sink::REPEAT`] while they keep coming).

use super::fanout::OutputQueue;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::sink::{self, SinkView};
use super::status::{OutputSnapshot, OutputState};
use crate::engine::shared::lock;
use crate::ts::analyzer::{Analyzer, AnalyzerConfig, Report};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

struct Shared {
    report: Mutex<Option<Box<Report>>>,
    analyzer: Mutex<Analyzer>,
}

impl SinkView for Shared {
    fn fill(&self, snap: &mut OutputSnapshot) {
        snap.state = OutputState::Ready;
        snap.analysis = lock(&self.report).clone();
    }

    fn report_now(&self) -> Option<Report> {
        Some(lock(&self.analyzer).report())
    }
}

/// Tells new TR 101 290 errors, not every second.
#[derive(Default)]
struct ErrorWatch {
    told: u64,
    last_told: Option<Instant>,
}

impl ErrorWatch {
    fn check(&mut self, r: &Report) -> Option<String> {
        let total = r.tr101290.priority1_total() + r.tr101290.priority2_total();
        let quiet = self.last_told.is_none_or(|t| t.elapsed() >= sink::REPEAT);
        if total <= self.told || !quiet {
            return None;
        }
        let new = total - self.told;
        self.told = total;
        self.last_told = Some(Instant::now());
        Some(format!(
            "TR 101 290: {new} new error(s), {total} in all: {}",
            r.verdict
        ))
    }
}

pub(crate) fn start(
    cfg: &AnalyzerConfig,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let shared = Arc::new(Shared {
        report: Mutex::new(None),
        analyzer: Mutex::new(Analyzer::new(*cfg)),
    });
    let publish = shared.clone();
    let label = format!("output {} (analyze)", index + 1);
    let thread = spawn(&format!("relay-ana-{}", index + 1), move || {
        let mut watch = ErrorWatch::default();
        sink::run(
            &queue,
            &counters,
            &stop,
            |d| {
                let secs = d.sched_us as f64 / 1e6;
                lock(&publish.analyzer).push_live(&d.payload, secs);
            },
            || {
                let report = lock(&publish.analyzer).report();
                if let Some(text) = watch.check(&report) {
                    core.event(format!("{label}: {text}"), true);
                }
                *lock(&publish.report) = Some(Box::new(report));
            },
        );
    })?;
    let mut part = Part::thread(thread);
    part.sink = Some(shared);
    Ok(part)
}
