//! A player is a channel: its file (or the generated test signal) is the
//! channel's one input, its SRT endpoint the channel's one output, and the
//! channel's one monitor loop watches it ([`super::player_watch`]).
//!
//! ```text
//!  file / testsrc ─► pacer ─► sending pool (scheduler.rs) ─► SRT output's connections
//!                             srctime = the PCR schedule         (caller, listener,
//!                             however late the pool woke          rendezvous, hub)
//! ```
//!
//! The input runs on the shared sending pool and hands each datagram,
//! when due, straight to the output's connections, stamped with its
//! schedule time as its SRT source time: exact to the µs against the PCR
//! whenever the pool wakes, and one wake sends everything due on every
//! stream of a worker (no queue, no thread per player). What the player
//! shows ([`StreamReader`]: states, [`EventKind`] events, per-connection
//! statistics, history) is kept by that monitor loop; the channel's
//! snapshot ([`ChannelReader`]) counts the same input and output.

use super::config::{ChannelConfig, InputConfig, OutputConfig};
use super::fanout::OutputQueue;
use super::player_watch::PlayerWatch;
use super::running::{Channel, Core, InputCounters, OutputCounters};
use super::view::{ChannelReader, OutputView, View};
use crate::engine::config::{LoopMode, Mode, StreamConfig};
use crate::engine::link::{Direction, Link, SrtEndpoint};
use crate::engine::monitor::LinkTracker;
use crate::engine::pacer::Pacer;
use crate::engine::scheduler;
use crate::engine::sender::{ChannelCounters, Sender};
use crate::engine::shared::{explain_srt_error, lock, Notify, Past, Shared};
use crate::engine::source::{self, LoopingSource, SourceInfo};
use crate::engine::srt::time_now_us;
use crate::engine::srt_params::send_tuning;
use crate::engine::stats::HistoryPoint;
use crate::engine::status::{
    EventKind, SourceSummary, StreamEvent, StreamId, StreamSnapshot, StreamState,
};
use crate::engine::stream::{StartError, StreamReader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A player's settings as its channel's: the file or test signal as the
/// one input, the SRT endpoint as the one output.
pub(crate) fn channel_config(cfg: &StreamConfig) -> ChannelConfig {
    let text = cfg.file.to_string_lossy().into_owned();
    let input = if crate::media::testsignal::is_test_signal(&text) {
        InputConfig::TestSignal(text)
    } else {
        InputConfig::File {
            path: cfg.file.clone(),
            loop_mode: cfg.loop_mode,
        }
    };
    ChannelConfig {
        name: cfg.display_name(),
        inputs: vec![input],
        repair: cfg.loop_mode,
        outputs: vec![OutputConfig::Srt(Box::new(cfg.clone()))],
        ..ChannelConfig::default()
    }
}

impl InputCounters {
    /// A datagram of `len` bytes read now.
    pub(crate) fn count(&self, len: usize) {
        self.datagrams.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        self.last_us.store(time_now_us(), Ordering::Relaxed);
    }
}

impl Core {
    /// Input `input` read a datagram of `len` bytes (a player's channel:
    /// no switch to judge it, it is on air).
    pub(crate) fn count_input(&self, input: usize, len: usize) {
        if let Some(c) = self.inputs.get(input) {
            c.count(len);
        }
    }
}

impl OutputCounters {
    /// A datagram of `len` bytes went to at least one connection.
    pub(crate) fn count_sent(&self, len: usize) {
        self.datagrams.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
    }
}

/// Opens the file (probed) or starts the test signal (named after the
/// player unless the source names its ident).
fn open_source(
    cfg: &StreamConfig,
    halt: &Arc<AtomicBool>,
) -> Result<(SourceInfo, LoopingSource), StartError> {
    let text = cfg.file.to_string_lossy().into_owned();
    if crate::media::testsignal::is_test_signal(&text) {
        // Generated live: read as a file that never ends.
        let t = crate::media::testsignal::TestSignal::parse_for(&text, &cfg.name)
            .map_err(StartError::Transport)?;
        let info = source::test_signal_info(&t, &text);
        let reader = t.start(halt.clone()).map_err(StartError::Transport)?;
        let src = LoopingSource::from_stream(info.clone(), Box::new(reader));
        return Ok((info, src));
    }
    let info = source::probe_file(&cfg.file, cfg.probe_request())?;
    let src = LoopingSource::open(info.clone(), cfg.loop_mode != LoopMode::Off)?;
    Ok((info, src))
}

fn new_shared(
    id: StreamId,
    cfg: &StreamConfig,
    source: SourceSummary,
    past: &Past,
    notify: Notify,
) -> Arc<Shared> {
    Arc::new(Shared {
        id,
        snapshot: Mutex::new(StreamSnapshot {
            id,
            name: cfg.display_name(),
            config: cfg.clone(),
            state: StreamState::Starting,
            source,
            uptime_secs: 0.0,
            loops: 0,
            datagrams_sent: 0,
            datagrams_dropped: 0,
            pcr_jumps: 0,
            callers: Vec::new(),
            latest: None,
            monitor: None,
        }),
        log: past.log.clone(),
        stop: AtomicBool::new(false),
        started: past.started,
        running_since: Instant::now(),
        datagrams: AtomicU64::new(0),
        loops: AtomicU64::new(0),
        pcr_jumps: AtomicU64::new(0),
        send_drops: AtomicU64::new(0),
        monitor: Default::default(),
        notify,
    })
}

/// A player that is playing, as a channel. Dropping it stops it.
pub(crate) struct PlayerChannel {
    channel: Channel,
    reader: ChannelReader,
    shared: Arc<Shared>,
    /// Ends a read of a generated source that waits for data.
    halt: Arc<AtomicBool>,
    /// Shared with the monitor loop, which closes it when the player ends by itself.
    link: Arc<Mutex<Option<Link>>>,
    sender: Option<scheduler::Handle>,
}

impl PlayerChannel {
    /// Validates, probes the file, opens the SRT side and starts playing;
    /// its events and history continue `past` (a restart in place).
    pub(crate) fn start(
        id: StreamId,
        cfg: StreamConfig,
        stats_interval: Duration,
        notify: Notify,
        past: Past,
    ) -> Result<Self, StartError> {
        cfg.validate()?;
        let halt = Arc::new(AtomicBool::new(false));
        let (info, src) = open_source(&cfg, &halt)?;
        // Never capped below the file's peak: libsrt's input rate is the
        // peak over a short window, not the mean.
        let tuning = send_tuning(&cfg, info.peak_bps);
        let (events_tx, events_rx) = mpsc::channel();
        let link = Link::start(
            SrtEndpoint::of(&cfg),
            Direction::Send,
            tuning.clone(),
            events_tx,
        )
        .map_err(|e| StartError::Transport(explain_srt_error(&e, &cfg)))?;
        let conns = link.conns.clone();
        let link = Arc::new(Mutex::new(Some(link)));
        let shared = new_shared(id, &cfg, SourceSummary::of(&info), &past, notify);
        shared.event(EventKind::Started {
            uri: cfg.to_uri(false),
        });
        let listener = cfg.mode == Mode::Listener;
        shared.set_state(match listener {
            true => StreamState::Waiting,
            false => StreamState::Connecting,
        });
        tracing::info!(
            stream = id,
            file = %info.path.display(),
            bitrate_bps = info.bitrate_bps,
            peak_bps = info.peak_bps,
            fc = tuning.fc_packets,
            sndbuf = tuning.sndbuf_bytes,
            "stream started"
        );

        let ccfg = channel_config(&cfg);
        let events = past
            .channel
            .as_ref()
            .map_or_else(Arc::default, ChannelReader::event_log);
        let core = Arc::new(Core::new(&ccfg, events, true));
        let output = Arc::new(OutputCounters::default());
        let view = Arc::new(View {
            core: core.clone(),
            input_conns: vec![None],
            outputs: Mutex::new(vec![OutputView {
                uri: OutputConfig::Srt(Box::new(cfg.clone())).display(),
                // Not fed: the input sends straight to the connections.
                queue: OutputQueue::new(1),
                counters: output.clone(),
                conns: Some(conns.clone()),
                udp: false,
                sink: None,
            }]),
            cfg: Mutex::new(ccfg),
        });
        let reader = match past.channel {
            Some(r) => {
                r.replace(view.clone());
                r
            }
            None => ChannelReader::new(id, view.clone()),
        };
        let (watch, changes) = mpsc::channel();
        let mut player = Self {
            channel: Channel {
                view,
                inputs: Vec::new(),
                outputs: Vec::new(),
                watch,
                stop_flag: Arc::new(AtomicBool::new(false)),
                monitor: None,
            },
            reader,
            shared: shared.clone(),
            halt,
            link: link.clone(),
            sender: None,
        };
        // From here on an error drops `player`: what started stops.
        let spawn_err =
            |e: std::io::Error| StartError::Transport(format!("cannot start a thread: {e}"));
        let linger = Duration::from_millis(u64::from(cfg.latency_ms) * 3 + 250);
        let mut s = Sender::new(
            shared.clone(),
            Pacer::new(src, cfg.loop_mode),
            conns.clone(),
            listener,
            linger,
            cfg.latency_ms,
        );
        s.set_channel(ChannelCounters {
            core: core.clone(),
            output,
        });
        let generated = info.file_size == 0;
        if generated {
            // A live encoder delivers in bursts: start its schedule later
            // so that every datagram is read before it is due.
            s.set_start_margin(Duration::from_millis(300));
        }
        // A generated source waits on its encoder: it gets a sending thread
        // of its own, so its waits delay no other stream.
        player.sender =
            Some(scheduler::spawn(Box::new(s), &id.to_string(), generated).map_err(spawn_err)?);
        let hook = PlayerWatch {
            shared,
            core: core.clone(),
            conns,
            events: events_rx,
            link,
            listener,
            interval: stats_interval,
            next_stats: Instant::now() + stats_interval,
            rates: Default::default(),
            tracker: LinkTracker::new(listener),
            alarms: Default::default(),
            done: false,
        };
        player
            .channel
            .start_monitor(changes, None, Some(Box::new(hook)))
            .map_err(|e| StartError::Transport(e.to_string()))?;
        core.event(
            format!(
                "player '{}' started as a channel: 1 input, 1 output",
                cfg.display_name()
            ),
            false,
        );
        Ok(player)
    }

    /// A player listed but not started (`enabled = false` in its
    /// `[[stream]]` table): its settings, stopped, its file not opened and
    /// its port not bound; [`StreamManager::restart`] starts it in place.
    ///
    /// [`StreamManager::restart`]: crate::engine::StreamManager::restart
    pub(crate) fn listed(id: StreamId, cfg: StreamConfig, notify: Notify) -> Self {
        let past = Past::fresh();
        let shared = new_shared(id, &cfg, SourceSummary::default(), &past, notify);
        shared.stop.store(true, Ordering::SeqCst);
        shared.set_state(StreamState::Stopped);
        let channel = Channel::listed(channel_config(&cfg), Arc::default(), true);
        let reader = ChannelReader::new(id, channel.view.clone());
        Self {
            channel,
            reader,
            shared,
            halt: Arc::new(AtomicBool::new(true)),
            link: Arc::new(Mutex::new(None)),
            sender: None,
        }
    }

    /// A cheap handle for reading this player's state from any thread.
    pub(crate) fn reader(&self) -> StreamReader {
        StreamReader::new(self.shared.clone())
    }

    /// The reader of the channel it runs as (the same across restarts).
    pub(crate) fn channel_reader(&self) -> ChannelReader {
        self.reader.clone()
    }

    pub(crate) fn snapshot(&self) -> StreamSnapshot {
        self.reader().snapshot()
    }

    pub(crate) fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        self.reader().events_since(since)
    }

    pub(crate) fn history(&self) -> Vec<HistoryPoint> {
        self.reader().history()
    }

    /// What a restart in place keeps.
    pub(crate) fn past(&self) -> Past {
        Past {
            log: self.shared.log.clone(),
            started: self.shared.started,
            channel: Some(self.reader.clone()),
        }
    }

    /// Logs an event on this player (settings changed by the manager).
    pub(crate) fn event(&self, kind: EventKind) {
        self.shared.event(kind);
    }

    /// Renames the running player (a setting it takes without a restart).
    pub(crate) fn rename(&self, name: String) {
        let mut s = lock(&self.shared.snapshot);
        s.config.name = name;
        s.name = s.config.display_name();
        lock(&self.channel.view.cfg).name = s.name.clone();
        drop(s);
        (self.shared.notify)();
    }

    /// Turns the confidence monitor of what this player sends on or off.
    pub(crate) fn set_monitor(&self, m: Option<crate::media::ConfidenceMonitor>) {
        self.shared.monitor.set(m);
        (self.shared.notify)();
    }

    /// Stops playing and releases the port. Safe to call more than once.
    pub(crate) fn stop(&mut self) {
        let was_running = self.signal_stop();
        self.finish_stop(was_running);
    }

    /// Tells its threads to leave without waiting for them (whether it was
    /// running): stopping many players signals them all first, so their
    /// threads wind down together rather than one after the other.
    pub(crate) fn signal_stop(&self) -> bool {
        let was_running = !self.shared.stop.swap(true, Ordering::SeqCst);
        self.halt.store(true, Ordering::SeqCst);
        self.channel.stop_flag.store(true, Ordering::SeqCst);
        was_running
    }

    /// Waits for its threads, closes its connections, says it stopped.
    pub(crate) fn finish_stop(&mut self, was_running: bool) {
        if let Some(s) = self.sender.take() {
            s.stop();
        }
        self.channel.stop();
        // Closes every connection and frees the port.
        drop(lock(&self.link).take());
        if was_running && lock(&self.shared.snapshot).state.is_running() {
            self.shared.event(EventKind::Stopped);
        }
        self.shared.set_state(StreamState::Stopped);
    }
}

impl Drop for PlayerChannel {
    fn drop(&mut self) {
        self.stop();
    }
}
