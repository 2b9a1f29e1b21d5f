//! A running channel: its inputs, the selector, the fan-out, its outputs,
//! and one monitor thread that turns what happens into events and keeps
//! the rates for the snapshot.

use super::config::{ChannelConfig, ChannelConfigError, InputConfig};
use super::failover::Failover;
use super::fanout::Fanout;
use super::input_file::{self, Target};
use super::outputs::{OutputPart, WatchChange};
use super::running_monitor::MonitorHook;
use super::status::{ChannelEvent, ChannelSnapshot, EventLog};
use super::view::{ChannelReader, View};
use super::{input_srt, input_udp};
use crate::engine::link::{ConnSet, Link, LinkEvent};
use crate::engine::shared::lock;
use crate::engine::srt::{time_now_us, SrtError};
use crate::engine::switch::{Live, SwitchEvent, SwitchReason};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why a channel did not start, or refused a change.
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
    #[error("{owner}: port {port} is also bound by {other}: {why}")]
    Port {
        owner: String,
        port: u16,
        other: String,
        why: crate::engine::preflight::PortConflict,
    },
    #[error("no output {} (the channel has {count}; outputs are counted from 1)", index + 1)]
    NoSuchOutput { index: usize, count: usize },
    #[error(
        "channel '{0}': its last output cannot be removed: add another first, or stop the channel"
    )]
    LastOutput(String),
    #[error("channel '{0}' is stopped: restart it first")]
    Stopped(String),
}

/// A byte rate, kept by the monitor once a second, read by snapshots.
#[derive(Default)]
pub(crate) struct Rate {
    bits: AtomicU64,
    last_bytes: AtomicU64,
}

impl Rate {
    /// `bytes` (a running total) as it is `secs` after the last update.
    pub(crate) fn update(&self, bytes: u64, secs: f64) {
        let old = self.last_bytes.swap(bytes, Ordering::Relaxed);
        if secs <= 0.0 {
            return;
        }
        let bps = bytes.saturating_sub(old) as f64 * 8.0 / secs.max(1e-3);
        self.bits.store(bps.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn bps(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

/// Counters of one input, written by its thread.
#[derive(Default)]
pub(crate) struct InputCounters {
    pub(crate) datagrams: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) bad: AtomicU64,
    /// libsrt-clock µs of the last datagram (0: none yet).
    pub(crate) last_us: AtomicI64,
    pub(crate) rate: Rate,
}

/// Counters of one output, written by its thread.
#[derive(Default)]
pub(crate) struct OutputCounters {
    pub(crate) datagrams: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) send_drops: AtomicU64,
    pub(crate) late: AtomicU64,
    pub(crate) rate: Rate,
}

/// What the input threads share.
pub(crate) struct Core {
    pub(crate) stop: AtomicBool,
    started: Instant,
    failover: Mutex<Failover>,
    pub(crate) fanout: Fanout,
    pub(crate) inputs: Vec<InputCounters>,
    /// Shared with the channel restarted in this one's place.
    pub(crate) events: Arc<Mutex<EventLog>>,
    pub(crate) switches: AtomicU64,
    /// A receiver's channel: every byte that arrives goes to the outputs as
    /// it came, garbage included (for the analyzer to judge), never held
    /// back by the switch or the repair ([`Self::deliver_raw`]).
    pub(crate) raw: bool,
    /// A player's channel: its one input is on air by construction (its
    /// file input sends straight to its SRT output, no switch between).
    pub(crate) direct: bool,
    /// File inputs (and the slate) still on the sending pool.
    pub(crate) pooled: AtomicUsize,
}

impl Core {
    /// The shared state of a channel of `cfg`, its events going on in `events`.
    pub(crate) fn new(cfg: &ChannelConfig, events: Arc<Mutex<EventLog>>, direct: bool) -> Self {
        Self {
            stop: AtomicBool::new(false),
            started: Instant::now(),
            failover: Mutex::new(Failover::new(
                &cfg.switch_settings(),
                cfg.inputs.len(),
                cfg.slate.is_some(),
                cfg.repair,
            )),
            fanout: Fanout::default(),
            inputs: cfg
                .inputs
                .iter()
                .map(|_| InputCounters::default())
                .collect(),
            events,
            switches: AtomicU64::new(0),
            raw: false,
            direct,
            pooled: AtomicUsize::new(0),
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn uptime_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub(crate) fn event(&self, text: String, alarm: bool) {
        let mut log = lock(&self.events);
        let at_secs = log.now_secs();
        log.push(ChannelEvent {
            at_secs,
            text,
            alarm,
        });
    }

    /// What is on air, each input's health, packets the repair dropped.
    pub(crate) fn switch_view(
        &self,
        now_us: i64,
    ) -> (Live, Vec<crate::engine::switch::Health>, u64) {
        let f = lock(&self.failover);
        (f.live(), f.health(now_us), f.dropped_packets())
    }

    /// Input `input`'s counters for a datagram that arrived now.
    fn count(&self, input: usize, payload: &[u8]) {
        if let Some(c) = self.inputs.get(input) {
            c.datagrams.fetch_add(1, Ordering::Relaxed);
            c.bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
            c.last_us.store(time_now_us(), Ordering::Relaxed);
            if !super::realign::whole_packets(payload) {
                c.bad.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A datagram from input `input`, due at `sched_us`: counted, judged,
    /// and handed to every output if that input is on air.
    pub(crate) fn deliver(&self, input: usize, payload: &[u8], sched_us: i64) {
        self.count(input, payload);
        self.offer(Live::Input(input), payload, sched_us);
    }

    /// A message of input `input` as it arrived (a receiver's channel):
    /// counted and judged like any, and handed to every output whatever
    /// the switch says.
    pub(crate) fn deliver_raw(&self, input: usize, payload: &[u8], sched_us: i64) {
        self.count(input, payload);
        let event = lock(&self.failover).judge(time_now_us(), Live::Input(input), payload);
        self.fanout.push(super::Datagram {
            payload: payload.into(),
            sched_us,
        });
        if let Some(e) = event {
            self.switched(&e);
        }
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
/// How often a player's channel's monitor looks at its counters when no
/// link event wakes it.
const HOOK_TICK: Duration = Duration::from_millis(100);

/// A started input or output: its thread and, for SRT, its link.
pub(crate) struct Part {
    pub(crate) thread: Option<JoinHandle<()>>,
    pub(crate) link: Option<Link>,
    pub(crate) events: Option<mpsc::Receiver<LinkEvent>>,
    /// Wakes the thread from a blocking read (closes what it reads from).
    pub(crate) wake: Option<Box<dyn Fn() + Send>>,
    /// Record, analyze, monitor: their part of the snapshot.
    pub(crate) sink: Option<Arc<dyn super::sink::SinkView>>,
}

impl Part {
    /// A part that is only its thread (no SRT link, nothing to wake).
    pub(crate) fn thread(thread: JoinHandle<()>) -> Self {
        Self {
            thread: Some(thread),
            link: None,
            events: None,
            wake: None,
            sink: None,
        }
    }

    pub(crate) fn conns(&self) -> Option<Arc<ConnSet>> {
        self.link.as_ref().map(|l| l.conns.clone())
    }
}

/// A running channel; stops on drop. What it shows is read through
/// [`Channel::reader`] or [`Channel::snapshot`]; outputs come and go with
/// [`Channel::add_output`] and [`Channel::remove_output`].
pub struct Channel {
    pub(crate) view: Arc<View>,
    pub(super) inputs: Vec<Part>,
    /// In the order of the view's outputs.
    pub(crate) outputs: Vec<OutputPart>,
    pub(crate) watch: mpsc::Sender<WatchChange>,
    pub(super) stop_flag: Arc<AtomicBool>,
    pub(super) monitor: Option<JoinHandle<()>>,
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
    /// Validates `cfg`, then starts the inputs and the outputs. Nothing is
    /// left running when it fails.
    pub fn start(cfg: ChannelConfig) -> Result<Self, ChannelError> {
        Self::start_with_log(cfg, Arc::default())
    }

    /// [`Self::start`], its events going on in `events` (a restart).
    pub(crate) fn start_with_log(
        cfg: ChannelConfig,
        events: Arc<Mutex<EventLog>>,
    ) -> Result<Self, ChannelError> {
        Self::start_observed(cfg, events, None)
    }

    /// [`Self::start_with_log`], `observer` watching it in its monitor loop.
    pub(crate) fn start_observed(
        cfg: ChannelConfig,
        events: Arc<Mutex<EventLog>>,
        observer: Option<Box<dyn super::running_monitor::Observer>>,
    ) -> Result<Self, ChannelError> {
        let raw = observer.as_ref().is_some_and(|o| o.raw());
        cfg.validate()?;
        super::outputs::check_ports(&cfg)?;
        let mut core = Core::new(&cfg, events, false);
        core.raw = raw;
        let core = Arc::new(core);
        // Inputs first: a port shared by a publisher and readers is opened
        // with a receiver's buffers.
        let mut inputs = Vec::new();
        let mut started = || -> Result<(), ChannelError> {
            for (i, input) in cfg.inputs.iter().enumerate() {
                inputs.push(match input {
                    InputConfig::Srt(c) => input_srt::start(c, i, core.clone()),
                    InputConfig::Udp(u) => input_udp::start(u, i, core.clone()),
                    InputConfig::File { path, loop_mode } => {
                        input_file::start_file(path, *loop_mode, Target::Input(i), core.clone())
                    }
                    InputConfig::TestSignal(t) => input_file::start_test_signal(t, i, core.clone()),
                }?);
            }
            if let Some(path) = &cfg.slate {
                inputs.push(super::slate::start(path, core.clone())?);
            }
            Ok(())
        };
        let result = started();
        let (watch, changes) = mpsc::channel();
        let mut ch = Channel {
            view: Arc::new(View {
                core: core.clone(),
                cfg: Mutex::new(ChannelConfig {
                    outputs: Vec::new(),
                    ..cfg.clone()
                }),
                input_conns: inputs.iter().map(Part::conns).collect(),
                outputs: Mutex::new(Vec::new()),
            }),
            inputs,
            outputs: Vec::new(),
            watch,
            stop_flag: Arc::new(AtomicBool::new(false)),
            monitor: None,
        };
        // On an error `ch` is dropped: what started stops.
        result?;
        for output in &cfg.outputs {
            ch.open_output(output)?;
        }
        ch.start_monitor(changes, observer, None)?;
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

    /// The channel's one monitor thread; a receiver's channel gives it
    /// `observer` (its view in the receiver's words), a player's channel
    /// `hook` (its link's events, states, statistics and history).
    pub(super) fn start_monitor(
        &mut self,
        changes: mpsc::Receiver<WatchChange>,
        observer: Option<Box<dyn super::running_monitor::Observer>>,
        hook: Option<Box<dyn MonitorHook>>,
    ) -> Result<(), ChannelError> {
        let cfg = self.view.config();
        let mut watch = super::running_monitor::Watch::new(
            self.view.clone(),
            Duration::from_millis(u64::from(cfg.switch_after_ms)),
            changes,
        );
        for (i, p) in self.inputs.iter_mut().enumerate() {
            if let Some(rx) = p.events.take() {
                watch.link(format!("input {}", i + 1), rx);
            }
            if let Some(c) = p.conns() {
                watch.publishers(c);
            }
        }
        if let Some(o) = observer {
            watch.observe(o);
        }
        let stop = self.stop_flag.clone();
        if let Some(mut hook) = hook {
            // No switch to look at: one wake per tick, or per link event.
            self.monitor = Some(spawn("channel-monitor", move || {
                while !stop.load(Ordering::SeqCst) {
                    hook.wait(HOOK_TICK);
                    watch.tick();
                    hook.tick();
                }
            })?);
            return Ok(());
        }
        self.monitor = Some(spawn("channel-monitor", move || {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(SWITCH_TICK_MS));
                watch.view.core.tick_switch();
                n = n.wrapping_add(1);
                if n.is_multiple_of(5) {
                    watch.tick();
                }
            }
        })?);
        Ok(())
    }

    /// Its settings as they are now (outputs added or removed included).
    pub fn config(&self) -> ChannelConfig {
        self.view.config()
    }

    /// A handle that reads this channel without waiting on it.
    pub fn reader(&self, id: crate::engine::StreamId) -> ChannelReader {
        ChannelReader::new(id, self.view.clone())
    }

    /// Every input has ended (a file played once reached its end): its
    /// thread, or its place on the sending pool.
    pub fn inputs_ended(&self) -> bool {
        self.view.core.pooled.load(Ordering::SeqCst) == 0
            && self
                .inputs
                .iter()
                .all(|p| p.thread.as_ref().is_none_or(|t| t.is_finished()))
    }

    /// Events after the first `since`, and the new count.
    pub fn events_since(&self, since: u64) -> (Vec<ChannelEvent>, u64) {
        self.view.events_since(since)
    }

    pub fn snapshot(&self) -> ChannelSnapshot {
        self.view.snapshot()
    }

    /// The event log, to go on in a channel restarted in this one's place.
    pub(crate) fn event_log(&self) -> Arc<Mutex<EventLog>> {
        self.view.core.events.clone()
    }

    /// Stops everything: inputs first, then the outputs drain and close.
    pub fn stop(&mut self) {
        let core = &self.view.core;
        if core.stop.swap(true, Ordering::SeqCst) {
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
        for o in &self.outputs {
            o.signal();
        }
        for o in &mut self.outputs {
            o.stop();
        }
        self.stop_flag.store(true, Ordering::SeqCst);
        if let Some(t) = self.monitor.take() {
            let _ = t.join();
        }
        core.event("channel stopped".to_string(), false);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.stop();
    }
}
