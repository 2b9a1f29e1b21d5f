//! A monitor output: the receiver's confidence monitor (GStreamer, in
//! `media`) decoding what the channel sends: picture, audio levels, and
//! the black / frozen / silence alarms as events. A monitor that cannot
//! start (GStreamer or a decoder missing) is the output's `failed` state
//! and an alarm; the other outputs go on.

use super::fanout::OutputQueue;
use super::running::{spawn, ChannelError, Core, OutputCounters, Part};
use super::sink::{self, SinkView};
use super::status::{OutputSnapshot, OutputState};
use crate::engine::shared::lock;
use crate::media::{AlarmWatch, ConfidenceMonitor, MonitorSettings, MonitorSlot, MonitorStatus};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Shared {
    slot: MonitorSlot,
    /// Why the monitor did not start.
    failed: Mutex<Option<String>>,
}

impl SinkView for Shared {
    fn fill(&self, snap: &mut OutputSnapshot) {
        match lock(&self.failed).clone() {
            Some(error) => {
                snap.state = OutputState::Failed;
                snap.monitor = Some(MonitorStatus {
                    error: Some(error),
                    ..Default::default()
                });
            }
            None => {
                snap.state = OutputState::Ready;
                snap.monitor = self.slot.status();
            }
        }
    }
}

/// The monitor's news as events: alarms raised and cleared, decoders
/// missing, a decoding error (each once).
#[derive(Default)]
struct News {
    alarms: AlarmWatch,
    missing: usize,
    error: bool,
}

impl News {
    fn of(&mut self, s: &MonitorStatus) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = self
            .alarms
            .changes(&s.alarms)
            .into_iter()
            .map(|(alarm, raised)| {
                let verb = if raised { "alarm" } else { "cleared" };
                (format!("{verb}: {alarm}"), raised)
            })
            .collect();
        for m in s.missing.iter().skip(self.missing) {
            out.push((format!("cannot decode: {m}"), true));
        }
        self.missing = s.missing.len();
        if let Some(e) = s.error.as_ref().filter(|_| !self.error) {
            self.error = true;
            out.push((format!("decoding failed: {e}"), true));
        }
        out
    }
}

pub(crate) fn start(
    settings: &MonitorSettings,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: Arc<Core>,
) -> Result<Part, ChannelError> {
    let label = format!("output {} (monitor)", index + 1);
    let shared = Arc::new(Shared::default());
    let settings = MonitorSettings {
        live: true,
        ..settings.clone()
    };
    match ConfidenceMonitor::start(settings) {
        Ok(m) => shared.slot.set(Some(m)),
        Err(e) => {
            let text = format!("the monitor cannot start: {e}; the other outputs go on");
            core.event(format!("{label}: {text}"), true);
            *lock(&shared.failed) = Some(text);
        }
    }
    let feed = shared.clone();
    let thread = spawn(&format!("relay-mon-{}", index + 1), move || {
        let mut news = News::default();
        sink::run(
            &queue,
            &counters,
            &stop,
            |d| feed.slot.push(&d.payload),
            || {
                let Some(s) = feed.slot.status() else { return };
                for (text, alarm) in news.of(&s) {
                    core.event(format!("{label}: {text}"), alarm);
                }
            },
        );
    })?;
    let mut part = Part::thread(thread);
    part.sink = Some(shared);
    Ok(part)
}
