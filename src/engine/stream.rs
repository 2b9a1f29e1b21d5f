//! One running stream: our pacer → libsrt. A sending thread (shared by
//! streams, see `scheduler.rs`) waits for each datagram's time and hands it
//! to every connection with that time as its
//! SRT source time (so the receiver's TSBPD plays the PCR schedule exactly,
//! however late the thread woke); a [`Link`] keeps the connections; a
//! monitor thread turns link events and libsrt's statistics into states,
//! events and history.

use super::config::{Mode, StreamConfig};
use super::link::{Direction, Link, LinkEvent, SrtEndpoint};
use super::pacer::Pacer;
use super::scheduler;
use super::sender::Sender;
use super::shared::{explain_srt_error, lock, Notify, Past, Shared};
use super::source::{self, LoopingSource, SourceError};
use super::srt_params::send_tuning;
use super::stats::HistoryPoint;
use super::status::{EventKind, SourceSummary, StreamEvent, StreamId, StreamSnapshot, StreamState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why a stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Transport(String),
}

/// Reads a stream's published state; never waits on the network (the locks
/// it takes are held only while a snapshot is copied).
#[derive(Clone)]
pub struct StreamReader(Arc<Shared>);

impl StreamReader {
    pub fn id(&self) -> StreamId {
        self.0.id
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        let sh = &self.0;
        let mut s = lock(&sh.snapshot).clone();
        s.uptime_secs = sh.running_since.elapsed().as_secs_f64();
        s.datagrams_sent = sh.datagrams.load(Ordering::Relaxed);
        s.datagrams_dropped = sh.send_drops.load(Ordering::Relaxed);
        s.loops = sh.loops.load(Ordering::Relaxed);
        s.pcr_jumps = sh.pcr_jumps.load(Ordering::Relaxed);
        s.monitor = sh.monitor.status();
        s
    }

    /// Events from index `since` of all events ever logged (those still kept),
    /// and the total count to pass next time.
    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        lock(self.0.log.as_ref()).since(since)
    }

    pub fn history(&self) -> Vec<HistoryPoint> {
        lock(self.0.log.as_ref())
            .history
            .points()
            .iter()
            .copied()
            .collect()
    }
}

/// A stream that is playing. Dropping it stops it.
pub struct RunningStream {
    shared: Arc<Shared>,
    /// Ends a read of a generated source that waits for data.
    halt: Arc<AtomicBool>,
    /// Shared with the monitor, which closes it when the stream ends by itself.
    link: Arc<Mutex<Option<Link>>>,
    sender: Option<scheduler::Handle>,
    monitor: Option<JoinHandle<()>>,
}

impl RunningStream {
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
        let source_text = cfg.file.to_string_lossy().into_owned();
        let (info, src) = if crate::media::testsignal::is_test_signal(&source_text) {
            // Generated live: read as a file that never ends.
            // Its ident: this stream's own name (unless the source names one).
            let t = crate::media::testsignal::TestSignal::parse_for(&source_text, &cfg.name)
                .map_err(StartError::Transport)?;
            let info = source::test_signal_info(&t, &source_text);
            let reader = t.start(halt.clone()).map_err(StartError::Transport)?;
            let src = LoopingSource::from_stream(info.clone(), Box::new(reader));
            (info, src)
        } else {
            let info = source::probe_file(&cfg.file, cfg.probe_request())?;
            let looping = cfg.loop_mode != super::config::LoopMode::Off;
            let src = LoopingSource::open(info.clone(), looping)?;
            (info, src)
        };
        // Never capped below the file's peak: libsrt's input rate is the peak
        // over a short window, not the mean.
        let tuning = send_tuning(&cfg, info.peak_bps);
        let pacer = Pacer::new(src, cfg.loop_mode);

        let (events_tx, events_rx) = mpsc::channel::<LinkEvent>();
        let link = Link::start(
            SrtEndpoint::of(&cfg),
            Direction::Send,
            tuning.clone(),
            events_tx,
        )
        .map_err(|e| StartError::Transport(explain_srt_error(&e, &cfg)))?;
        let conns = link.conns.clone();
        let link = Arc::new(Mutex::new(Some(link)));

        let shared = Arc::new(Shared {
            id,
            snapshot: Mutex::new(StreamSnapshot {
                id,
                name: cfg.display_name(),
                config: cfg.clone(),
                state: StreamState::Starting,
                source: SourceSummary::of(&info),
                uptime_secs: 0.0,
                loops: 0,
                datagrams_sent: 0,
                datagrams_dropped: 0,
                pcr_jumps: 0,
                callers: Vec::new(),
                latest: None,
                monitor: None,
            }),
            log: past.log,
            stop: AtomicBool::new(false),
            started: past.started,
            running_since: Instant::now(),
            datagrams: AtomicU64::new(0),
            loops: AtomicU64::new(0),
            pcr_jumps: AtomicU64::new(0),
            send_drops: AtomicU64::new(0),
            monitor: Default::default(),
            notify,
        });
        shared.event(EventKind::Started {
            uri: cfg.to_uri(false),
        });
        shared.set_state(match cfg.mode {
            Mode::Listener => StreamState::Waiting,
            _ => StreamState::Connecting,
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

        let linger = Duration::from_millis(u64::from(cfg.latency_ms) * 3 + 250);
        let listener = cfg.mode == Mode::Listener;
        let spawn_err =
            |e: std::io::Error| StartError::Transport(format!("cannot start a thread: {e}"));
        let generated = info.file_size == 0;
        let mut s = Sender::new(
            shared.clone(),
            pacer,
            conns.clone(),
            listener,
            linger,
            cfg.latency_ms,
        );
        if generated {
            // A live encoder delivers in bursts: start its schedule later
            // so that every datagram is read before it is due.
            s.set_start_margin(Duration::from_millis(300));
        }
        // A generated source waits on its encoder: it gets a sending thread
        // of its own, so its waits delay no other stream.
        let sender = scheduler::spawn(s, id, generated).map_err(spawn_err)?;
        let monitor = {
            let shared = shared.clone();
            let link = link.clone();
            std::thread::Builder::new()
                .name(format!("mon-{id}"))
                .spawn(move || {
                    super::monitor::Monitor::new(shared, conns, events_rx, cfg, stats_interval)
                        .run();
                    // Ended, failed or stopped: close the connections, free the port.
                    drop(lock(&link).take());
                })
                .map_err(spawn_err)?
        };
        Ok(Self {
            shared,
            halt,
            link,
            sender: Some(sender),
            monitor: Some(monitor),
        })
    }

    pub fn id(&self) -> StreamId {
        self.shared.id
    }

    /// A cheap handle for reading this stream's state from any thread.
    pub fn reader(&self) -> StreamReader {
        StreamReader(self.shared.clone())
    }

    pub fn snapshot(&self) -> StreamSnapshot {
        self.reader().snapshot()
    }

    pub fn events_since(&self, since: u64) -> (Vec<StreamEvent>, u64) {
        self.reader().events_since(since)
    }

    pub fn history(&self) -> Vec<HistoryPoint> {
        self.reader().history()
    }

    /// What a restart in place keeps.
    pub(crate) fn past(&self) -> Past {
        Past {
            log: self.shared.log.clone(),
            started: self.shared.started,
        }
    }

    /// Logs an event on this stream (settings changed by the manager).
    pub(crate) fn event(&self, kind: EventKind) {
        self.shared.event(kind);
    }

    /// Renames the running stream (a setting it takes without a restart).
    pub(crate) fn rename(&self, name: String) {
        let mut s = lock(&self.shared.snapshot);
        s.config.name = name;
        s.name = s.config.display_name();
        drop(s);
        (self.shared.notify)();
    }

    /// Turns the confidence monitor of what this stream sends on or off.
    pub fn set_monitor(&self, m: Option<crate::media::ConfidenceMonitor>) {
        self.shared.monitor.set(m);
        (self.shared.notify)();
    }

    /// Stops playing and releases the port. Safe to call more than once.
    pub fn stop(&mut self) {
        let was_running = self.signal_stop();
        self.finish_stop(was_running);
    }

    /// Tells its threads to leave without waiting for them (whether it was
    /// running): stopping many streams signals them all first, so their
    /// threads wind down together rather than one after the other.
    pub(crate) fn signal_stop(&self) -> bool {
        let was_running = !self.shared.stop.swap(true, Ordering::SeqCst);
        self.halt.store(true, Ordering::SeqCst);
        was_running
    }

    /// Waits for its threads, closes its connections, says it stopped.
    pub(crate) fn finish_stop(&mut self, was_running: bool) {
        if let Some(s) = self.sender.take() {
            s.stop();
        }
        if let Some(t) = self.monitor.take() {
            let _ = t.join();
        }
        // Closes every connection and frees the port.
        drop(lock(&self.link).take());
        if was_running && lock(&self.shared.snapshot).state.is_running() {
            self.shared.event(EventKind::Stopped);
        }
        self.shared.set_state(StreamState::Stopped);
    }
}

impl Drop for RunningStream {
    fn drop(&mut self) {
        self.stop();
    }
}
