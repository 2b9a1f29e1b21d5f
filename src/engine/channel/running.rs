//! A running channel: its inputs, the selector, the fan-out, its outputs,
//! and one monitor thread that turns what happens into events and keeps
//! the rates for the snapshot.

use super::config::{ChannelConfig, ChannelConfigError, InputConfig, OutputConfig};
use super::failover::Failover;
use super::fanout::{Fanout, OutputQueue, QUEUE_DATAGRAMS};
use super::input_file::{self, Target};
use super::status::{
    ChannelEvent, ChannelSnapshot, ChannelState, EventLog, InputSnapshot, InputState,
    OutputSnapshot, OutputState,
};
use super::{input_srt, input_udp, output_srt, output_udp};
use crate::engine::link::{ConnSet, Link, LinkEvent};
use crate::engine::shared::lock;
use crate::engine::srt::{time_now_us, SrtError};
use crate::engine::switch::{Live, SwitchEvent, SwitchReason};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why a channel did not start.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(transparent)]
    Config(#[from] ChannelConfigError),
    #[error("{what}: {source}")]
    Srt {
        what: String,
        #[source]
        source: SrtError,
    },
    #[error("slate '{path}': {source}")]
    Slate {
        path: String,
        #[source]
        source: crate::engine::source::SourceError,
    },
    #[error("input {index} '{path}': {source}")]
    InputFile {
        index: usize,
        path: String,
        #[source]
        source: crate::engine::source::SourceError,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Counters of one input, written by its thread.
#[derive(Default)]
pub(crate) struct InputCounters {
    pub(crate) datagrams: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) bad: AtomicU64,
    /// libsrt-clock µs of the last datagram (0: none yet).
    pub(crate) last_us: AtomicI64,
}

/// Counters of one output, written by its thread.
#[derive(Default)]
pub(crate) struct OutputCounters {
    pub(crate) datagrams: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) send_drops: AtomicU64,
    pub(crate) late: AtomicU64,
}

/// What the input threads share.
pub(crate) struct Core {
    pub(crate) stop: AtomicBool,
    started: Instant,
    failover: Mutex<Failover>,
    fanout: Fanout,
    pub(crate) inputs: Vec<InputCounters>,
    events: Mutex<EventLog>,
    switches: AtomicU64,
}

impl Core {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn event(&self, text: String, alarm: bool) {
        lock(&self.events).push(ChannelEvent {
            at_secs: self.started.elapsed().as_secs_f64(),
            text,
            alarm,
        });
    }

    /// A datagram from input `input`, due at `sched_us`: counted, judged,
    /// and handed to every output if that input is on air.
    pub(crate) fn deliver(&self, input: usize, payload: &[u8], sched_us: i64) {
        if let Some(c) = self.inputs.get(input) {
            c.datagrams.fetch_add(1, Ordering::Relaxed);
            c.bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
            c.last_us.store(time_now_us(), Ordering::Relaxed);
            let whole = payload.len().is_multiple_of(188)
                && payload.chunks(188).all(|p| p.first() == Some(&0x47));
            if !whole {
                c.bad.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.offer(Live::Input(input), payload, sched_us);
    }

    /// A datagram of the slate, due at `sched_us`: out only when it is on air.
    pub(crate) fn deliver_slate(&self, payload: &[u8], sched_us: i64) {
        self.offer(Live::Slate, payload, sched_us);
    }

    fn offer(&self, source: Live, payload: &[u8], sched_us: i64) {
        let mut send = Vec::new();
        let mut f = lock(&self.failover);
        let event = f.datagram(time_now_us(), source, payload, sched_us, &mut send);
        // Pushed under the lock: datagrams keep their order across a switch.
        for d in send {
            self.fanout.push(d);
        }
        drop(f);
        if let Some(e) = event {
            self.switched(&e);
        }
    }

    /// The switch looks at the inputs' health (no datagram needed: an input
    /// that went silent is left on time).
    pub(crate) fn tick_switch(&self) {
        let event = lock(&self.failover).tick(time_now_us());
        if let Some(e) = event {
            self.switched(&e);
        }
    }

    /// Input `input`'s publisher reconnected.
    pub(crate) fn input_restarted(&self, input: usize) {
        lock(&self.failover).restart(input);
    }

    fn switched(&self, e: &SwitchEvent) {
        if e.from != Live::Nothing {
            self.switches.fetch_add(1, Ordering::Relaxed);
        }
        let alarm = matches!(e.reason, SwitchReason::Down { .. } | SwitchReason::NoInput);
        self.event(e.to_string(), alarm);
    }
}

/// How often the monitor lets the switch look at silent inputs (inputs
/// with data make it look at each datagram).
const SWITCH_TICK_MS: u64 = 20;

/// A started input or output: its thread and, for SRT, its link.
pub(crate) struct Part {
    pub(crate) thread: Option<JoinHandle<()>>,
    pub(crate) link: Option<Link>,
    pub(crate) events: Option<mpsc::Receiver<LinkEvent>>,
    /// Wakes the thread from a blocking read (closes what it reads from).
    pub(crate) wake: Option<Box<dyn Fn() + Send>>,
}

impl Part {
    /// A part that is only its thread (no SRT link, nothing to wake).
    pub(crate) fn thread(thread: JoinHandle<()>) -> Self {
        Self {
            thread: Some(thread),
            link: None,
            events: None,
            wake: None,
        }
    }

    fn conns(&self) -> Option<&Arc<ConnSet>> {
        self.link.as_ref().map(|l| &l.conns)
    }
}

struct OutputSlot {
    uri: String,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    part: Part,
    udp: bool,
}

#[derive(Default, Clone)]
struct Rates {
    at: Option<Instant>,
    input_bytes: Vec<u64>,
    output_bytes: Vec<u64>,
    input_bps: Vec<f64>,
    output_bps: Vec<f64>,
}

/// A running channel; stops on drop.
pub struct Channel {
    cfg: ChannelConfig,
    core: Arc<Core>,
    inputs: Vec<Part>,
    outputs: Vec<OutputSlot>,
    stop_flag: Arc<AtomicBool>,
    rates: Arc<Mutex<Rates>>,
    monitor: Option<JoinHandle<()>>,
}

/// Starts a channel thread named `name`; a failure says which.
pub(crate) fn spawn(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, ChannelError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .map_err(|source| ChannelError::Io {
            what: format!("cannot start thread {name}"),
            source,
        })
}

impl Channel {
    /// Validates `cfg`, then starts the outputs' queues, the inputs and the
    /// outputs. Nothing is left running when it fails.
    pub fn start(cfg: ChannelConfig) -> Result<Self, ChannelError> {
        cfg.validate()?;
        let queues: Vec<Arc<OutputQueue>> = cfg
            .outputs
            .iter()
            .map(|_| OutputQueue::new(QUEUE_DATAGRAMS))
            .collect();
        let mut fanout = Fanout::default();
        for q in &queues {
            fanout.add(q.clone());
        }
        let core = Arc::new(Core {
            stop: AtomicBool::new(false),
            started: Instant::now(),
            failover: Mutex::new(Failover::new(
                &cfg.switch_settings(),
                cfg.inputs.len(),
                cfg.slate.is_some(),
                cfg.repair,
            )),
            fanout,
            inputs: cfg
                .inputs
                .iter()
                .map(|_| InputCounters::default())
                .collect(),
            events: Mutex::new(EventLog::default()),
            switches: AtomicU64::new(0),
        });
        let stop_flag = Arc::new(AtomicBool::new(false));
        let mut ch = Channel {
            cfg: cfg.clone(),
            core: core.clone(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            stop_flag: stop_flag.clone(),
            rates: Arc::new(Mutex::new(Rates::default())),
            monitor: None,
        };
        // Inputs first: a port shared by a publisher and readers is opened
        // with a receiver's buffers.
        for (i, input) in cfg.inputs.iter().enumerate() {
            let part = match input {
                InputConfig::Srt(c) => input_srt::start(c, i, core.clone()),
                InputConfig::Udp(u) => input_udp::start(u, i, core.clone()),
                InputConfig::File { path, loop_mode } => {
                    input_file::start_file(path, *loop_mode, Target::Input(i), core.clone())
                }
                InputConfig::TestSignal(t) => input_file::start_test_signal(t, i, core.clone()),
            }?;
            ch.inputs.push(part);
        }
        if let Some(path) = &cfg.slate {
            ch.inputs.push(super::slate::start(path, core.clone())?);
        }
        for ((i, output), queue) in cfg.outputs.iter().enumerate().zip(queues) {
            let counters = Arc::new(OutputCounters::default());
            let part = match output {
                OutputConfig::Srt(c) => {
                    output_srt::start(c, i, queue.clone(), counters.clone(), stop_flag.clone())
                }
                OutputConfig::Udp(u) => {
                    output_udp::start(u, i, queue.clone(), counters.clone(), stop_flag.clone())
                }
            }?;
            ch.outputs.push(OutputSlot {
                uri: output.display(),
                queue,
                counters,
                part,
                udp: matches!(output, OutputConfig::Udp(_)),
            });
        }
        ch.start_monitor()?;
        core.event(
            format!(
                "channel '{}' started: {} input(s), {} output(s)",
                cfg.display_name(),
                cfg.inputs.len(),
                cfg.outputs.len()
            ),
            false,
        );
        Ok(ch)
    }

    fn start_monitor(&mut self) -> Result<(), ChannelError> {
        let mut watch = super::running_monitor::Watch::new(
            self.core.clone(),
            Duration::from_millis(u64::from(self.cfg.switch_after_ms)),
        );
        for (i, p) in self.inputs.iter_mut().enumerate() {
            if let Some(rx) = p.events.take() {
                watch.link(format!("input {}", i + 1), rx);
            }
            if let Some(c) = p.conns() {
                watch.publishers(c.clone());
            }
        }
        for (i, o) in self.outputs.iter_mut().enumerate() {
            if let Some(rx) = o.part.events.take() {
                watch.link(format!("output {}", i + 1), rx);
            }
            watch.queue(format!("output {}", i + 1), o.queue.clone());
        }
        let (stop, rates) = (self.stop_flag.clone(), self.rates.clone());
        let counters: Vec<Arc<OutputCounters>> =
            self.outputs.iter().map(|o| o.counters.clone()).collect();
        self.monitor = Some(spawn("channel-monitor", move || {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(SWITCH_TICK_MS));
                watch.core.tick_switch();
                n = n.wrapping_add(1);
                if n.is_multiple_of(5) {
                    watch.tick();
                    update_rates(&rates, &watch.core, &counters);
                }
            }
        })?);
        Ok(())
    }

    /// Every input's thread has ended (a file played once reached its end).
    pub fn inputs_ended(&self) -> bool {
        self.inputs
            .iter()
            .all(|p| p.thread.as_ref().is_none_or(|t| t.is_finished()))
    }

    pub fn config(&self) -> &ChannelConfig {
        &self.cfg
    }

    /// Events after the first `since`, and the new count.
    pub fn events_since(&self, since: u64) -> (Vec<ChannelEvent>, u64) {
        lock(&self.core.events).since(since)
    }

    pub fn snapshot(&self) -> ChannelSnapshot {
        let rates = lock(&self.rates).clone();
        let now_us = time_now_us();
        let (live, health, repair_drops) = {
            let f = lock(&self.core.failover);
            (f.live(), f.health(now_us), f.dropped_packets())
        };
        let stall_ms = u64::from(self.cfg.switch_after_ms);
        let inputs: Vec<InputSnapshot> = self
            .cfg
            .inputs
            .iter()
            .enumerate()
            .map(|(i, cfg)| {
                let c = &self.core.inputs[i];
                let last = c.last_us.load(Ordering::Relaxed);
                let ago = (last > 0).then(|| u64::try_from((now_us - last) / 1000).unwrap_or(0));
                InputSnapshot {
                    index: i,
                    uri: cfg.display(),
                    state: match ago {
                        None => InputState::Waiting,
                        Some(ms) if ms >= stall_ms => InputState::Stalled,
                        Some(_) => InputState::Receiving,
                    },
                    live: live == Live::Input(i),
                    health: health.get(i).map_or_else(String::new, ToString::to_string),
                    connections: self.inputs[i].conns().map_or(0, |c| c.len()),
                    datagrams: c.datagrams.load(Ordering::Relaxed),
                    bytes: c.bytes.load(Ordering::Relaxed),
                    rate_bps: rates.input_bps.get(i).copied().unwrap_or(0.0),
                    bad_datagrams: c.bad.load(Ordering::Relaxed),
                    last_data_ms_ago: ago,
                }
            })
            .collect();
        let outputs = self
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| self.output_snapshot(i, o, &rates))
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
            name: self.cfg.display_name(),
            state,
            uptime_secs: self.core.started.elapsed().as_secs_f64(),
            live_input: live.to_string(),
            switches_total: self.core.switches.load(Ordering::Relaxed),
            repair_dropped_packets: repair_drops,
            inputs,
            outputs,
        }
    }

    fn output_snapshot(&self, i: usize, o: &OutputSlot, rates: &Rates) -> OutputSnapshot {
        let connections: Vec<String> = o
            .part
            .conns()
            .map(|c| c.current().0.iter().map(|c| c.peer.clone()).collect())
            .unwrap_or_default();
        let ready = o.udp || !connections.is_empty();
        OutputSnapshot {
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
            rate_bps: rates.output_bps.get(i).copied().unwrap_or(0.0),
            queue_len: o.queue.len(),
            queue_drops: o.queue.dropped.load(Ordering::Relaxed),
            send_drops: o.counters.send_drops.load(Ordering::Relaxed),
            late: o.counters.late.load(Ordering::Relaxed),
        }
    }

    /// Stops everything: inputs first, then the outputs drain and close.
    pub fn stop(&mut self) {
        if self.core.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        for p in &mut self.inputs {
            if let Some(wake) = &p.wake {
                wake();
            }
            if let Some(mut l) = p.link.take() {
                l.stop();
            }
            if let Some(t) = p.thread.take() {
                let _ = t.join();
            }
        }
        self.core.fanout.close();
        self.stop_flag.store(true, Ordering::SeqCst);
        for o in &mut self.outputs {
            if let Some(t) = o.part.thread.take() {
                let _ = t.join();
            }
            if let Some(mut l) = o.part.link.take() {
                l.stop();
            }
        }
        if let Some(t) = self.monitor.take() {
            let _ = t.join();
        }
        self.core.event("channel stopped".to_string(), false);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.stop();
    }
}

fn update_rates(rates: &Mutex<Rates>, core: &Core, outputs: &[Arc<OutputCounters>]) {
    let now = Instant::now();
    let mut r = lock(rates);
    let due =
        r.at.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
    if !due {
        return;
    }
    let ins: Vec<u64> = core
        .inputs
        .iter()
        .map(|c| c.bytes.load(Ordering::Relaxed))
        .collect();
    let outs: Vec<u64> = outputs
        .iter()
        .map(|c| c.bytes.load(Ordering::Relaxed))
        .collect();
    if let Some(t) = r.at {
        let secs = now.duration_since(t).as_secs_f64().max(1e-3);
        let bps = |new: &[u64], old: &[u64]| -> Vec<f64> {
            new.iter()
                .zip(old.iter().chain(std::iter::repeat(&0)))
                .map(|(n, o)| n.saturating_sub(*o) as f64 * 8.0 / secs)
                .collect()
        };
        r.input_bps = bps(&ins, &r.input_bytes);
        r.output_bps = bps(&outs, &r.output_bytes);
    }
    r.at = Some(now);
    r.input_bytes = ins;
    r.output_bytes = outs;
}
