//! What anyone may read of a running channel without waiting on it: its
//! settings as they are now, its counters and its events. The channel's
//! owner (the manager) keeps the threads; a [`ChannelReader`] keeps this.

use super::config::ChannelConfig;
use super::fanout::OutputQueue;
use super::running::{Core, OutputCounters};
use super::status::{
    ChannelEvent, ChannelSnapshot, ChannelState, InputSnapshot, InputState, OutputSnapshot,
    OutputState,
};
use crate::engine::link::ConnSet;
use crate::engine::shared::lock;
use crate::engine::srt::time_now_us;
use crate::engine::status::StreamId;
use crate::engine::switch::Live;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// One output as the snapshot shows it.
pub(crate) struct OutputView {
    pub(crate) uri: String,
    pub(crate) queue: Arc<OutputQueue>,
    pub(crate) counters: Arc<OutputCounters>,
    pub(crate) conns: Option<Arc<ConnSet>>,
    pub(crate) udp: bool,
    /// Record, analyze, monitor: their part of the snapshot.
    pub(crate) sink: Option<Arc<dyn super::sink::SinkView>>,
}

/// The readable side of a running channel.
pub(crate) struct View {
    pub(crate) core: Arc<Core>,
    pub(crate) cfg: Mutex<ChannelConfig>,
    pub(crate) input_conns: Vec<Option<Arc<ConnSet>>>,
    /// In the order of `cfg.outputs`.
    pub(crate) outputs: Mutex<Vec<OutputView>>,
}

impl View {
    pub(crate) fn events_since(&self, since: u64) -> (Vec<ChannelEvent>, u64) {
        lock(&self.core.events).since(since)
    }

    pub(crate) fn config(&self) -> ChannelConfig {
        lock(&self.cfg).clone()
    }

    pub(crate) fn snapshot(&self) -> ChannelSnapshot {
        let cfg = self.config();
        let now_us = time_now_us();
        let (live, health, repair_drops) = self.core.switch_view(now_us);
        let live = if self.core.direct {
            Live::Input(0)
        } else {
            live
        };
        let stall_ms = u64::from(cfg.switch_after_ms);
        let inputs: Vec<InputSnapshot> = cfg
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let c = &self.core.inputs[i];
                let last = c.last_us.load(Ordering::Relaxed);
                let ago = (last > 0).then(|| u64::try_from((now_us - last) / 1000).unwrap_or(0));
                InputSnapshot {
                    index: i,
                    uri: input.display(),
                    state: match ago {
                        None => InputState::Waiting,
                        Some(ms) if ms >= stall_ms => InputState::Stalled,
                        Some(_) => InputState::Receiving,
                    },
                    live: live == Live::Input(i),
                    health: health.get(i).map_or_else(String::new, ToString::to_string),
                    connections: self
                        .input_conns
                        .get(i)
                        .and_then(Option::as_ref)
                        .map_or(0, |c| c.len()),
                    datagrams: c.datagrams.load(Ordering::Relaxed),
                    bytes: c.bytes.load(Ordering::Relaxed),
                    rate_bps: c.rate.bps(),
                    bad_datagrams: c.bad.load(Ordering::Relaxed),
                    last_data_ms_ago: ago,
                }
            })
            .collect();
        let outputs = lock(&self.outputs)
            .iter()
            .enumerate()
            .map(|(i, o)| output_snapshot(i, o))
            .collect();
        let state = if self.core.stopped() {
            ChannelState::Stopped
        } else {
            match live {
                Live::Nothing => ChannelState::Waiting,
                Live::Slate => ChannelState::Slate,
                Live::Input(i) => match inputs.get(i).map(|i| i.state) {
                    Some(InputState::Stalled) => ChannelState::Stalled,
                    _ => ChannelState::Live,
                },
            }
        };
        ChannelSnapshot {
            name: cfg.display_name(),
            state,
            uptime_secs: self.core.uptime_secs(),
            live_input: live.to_string(),
            switches_total: self.core.switches.load(Ordering::Relaxed),
            repair_dropped_packets: repair_drops,
            inputs,
            outputs,
        }
    }
}

fn output_snapshot(i: usize, o: &OutputView) -> OutputSnapshot {
    let connections: Vec<String> = o
        .conns
        .as_ref()
        .map(|c| c.current().0.iter().map(|c| c.peer.clone()).collect())
        .unwrap_or_default();
    let ready = o.udp || !connections.is_empty();
    let mut snap = OutputSnapshot {
        index: i,
        uri: o.uri.clone(),
        state: if ready {
            OutputState::Ready
        } else {
            OutputState::Waiting
        },
        connections,
        datagrams: o.counters.datagrams.load(Ordering::Relaxed),
        bytes: o.counters.bytes.load(Ordering::Relaxed),
        rate_bps: o.counters.rate.bps(),
        queue_len: o.queue.len(),
        queue_drops: o.queue.dropped.load(Ordering::Relaxed),
        send_drops: o.counters.send_drops.load(Ordering::Relaxed),
        late: o.counters.late.load(Ordering::Relaxed),
        recording: None,
        analysis: None,
        monitor: None,
        transcode: None,
    };
    if let Some(sink) = &o.sink {
        sink.fill(&mut snap);
    }
    snap
}

/// A cheap handle (clone it freely) on one channel of the manager: its
/// snapshot and events, read without waiting on the engine. After a
/// restart it shows the channel that runs in that place now.
#[derive(Clone)]
pub struct ChannelReader {
    id: StreamId,
    slot: Arc<Mutex<Arc<View>>>,
}

impl ChannelReader {
    pub(crate) fn new(id: StreamId, view: Arc<View>) -> Self {
        Self {
            id,
            slot: Arc::new(Mutex::new(view)),
        }
    }

    /// Points this reader (and its clones) at the channel restarted in its place.
    pub(crate) fn replace(&self, view: Arc<View>) {
        *lock(&self.slot) = view;
    }

    pub(crate) fn view(&self) -> Arc<View> {
        lock(&self.slot).clone()
    }

    /// The event log of the channel it shows (to go on after a restart).
    pub(crate) fn event_log(&self) -> Arc<Mutex<super::status::EventLog>> {
        self.view().core.events.clone()
    }

    pub fn id(&self) -> StreamId {
        self.id
    }

    pub fn snapshot(&self) -> ChannelSnapshot {
        self.view().snapshot()
    }

    /// Events after the first `since`, and the new count (events go on
    /// across a restart).
    pub fn events_since(&self, since: u64) -> (Vec<ChannelEvent>, u64) {
        self.view().events_since(since)
    }

    /// Its settings as they are now (outputs added or removed included).
    pub fn config(&self) -> ChannelConfig {
        self.view().config()
    }

    /// libsrt's figures for each SRT connection of each input and output
    /// now (read on demand: cheap, but not for every frame).
    pub fn srt_links(&self) -> super::links::ChannelLinks {
        super::links::links(&self.view())
    }
}
