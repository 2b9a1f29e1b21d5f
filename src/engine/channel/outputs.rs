//! A channel's outputs: started by one function for every kind (at the
//! channel's start and when one is added live), and added to or removed
//! from a running channel without touching the others — the fan-out takes
//! the new queue (or lets the old one go) between two datagrams, so the
//! other outputs see every datagram once.

use super::config::{ChannelConfig, ChannelConfigError, OutputConfig, MAX_OUTPUTS};
use super::fanout::{OutputQueue, QUEUE_DATAGRAMS};
use super::running::Core;
use super::running::{Channel, ChannelError, OutputCounters, Part};
use super::view::OutputView;
use super::{
    output_analyze, output_monitor, output_profile, output_record, output_srt, output_udp,
};
use crate::engine::link::LinkEvent;
use crate::engine::ports;
use crate::engine::shared::lock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// What the channel's watcher is told when its outputs change.
pub(crate) enum WatchChange {
    Added {
        events: Option<mpsc::Receiver<LinkEvent>>,
        queue: Arc<OutputQueue>,
    },
    Removed(usize),
}

/// An output's thread and link, and the flag that stops it alone.
pub(crate) struct OutputPart {
    part: Part,
    stop: Arc<AtomicBool>,
    queue: Arc<OutputQueue>,
}

impl OutputPart {
    /// Tells its thread to leave (at once: what is queued is dropped).
    pub(crate) fn signal(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.queue.close();
    }

    /// Stops its thread and closes its link. Signal every output first
    /// when stopping many: a thread told its queue closed but not to stop
    /// would spin.
    pub(crate) fn stop(&mut self) {
        self.signal();
        if let Some(t) = self.part.thread.take() {
            let _ = t.join();
        }
        if let Some(mut l) = self.part.link.take() {
            l.stop();
        }
    }
}

/// Starts output `index` (0-based) of any kind, reading `queue`: the one
/// place an output kind is matched.
pub(crate) fn start_output(
    cfg: &OutputConfig,
    index: usize,
    queue: Arc<OutputQueue>,
    counters: Arc<OutputCounters>,
    stop: Arc<AtomicBool>,
    core: &Arc<Core>,
) -> Result<Part, ChannelError> {
    let (q, c, s) = (queue, counters, stop);
    match cfg {
        OutputConfig::Srt(o) => output_srt::start(o, index, q, c, s),
        OutputConfig::Udp(o) => output_udp::start(o, index, q, c, s, core.clone()),
        OutputConfig::Record(o) => output_record::start(o, index, q, c, s, core.clone()),
        OutputConfig::Analyze(o) => output_analyze::start(o, index, q, c, s, core.clone()),
        OutputConfig::Monitor(o) => output_monitor::start(o, index, q, c, s, core.clone()),
        OutputConfig::Transcode(o) => output_profile::start(o, index, q, c, s, core),
    }
}

/// The channel's own ports among themselves (a publisher and its readers
/// may share one by stream ID; two listeners without, or a UDP port
/// twice, may not).
pub(crate) fn check_ports(cfg: &ChannelConfig) -> Result<(), ChannelError> {
    match ports::first_clash(&ports::channel_binds(cfg, (false, 0))) {
        None => Ok(()),
        Some((b, a, why)) => Err(ChannelError::Port {
            owner: b.owner.clone(),
            port: b.port,
            other: a.owner.clone(),
            why,
        }),
    }
}

impl Channel {
    /// Starts `cfg` as the channel's next output and hands it the
    /// datagrams from now on; its index (0-based).
    pub(crate) fn open_output(&mut self, cfg: &OutputConfig) -> Result<usize, ChannelError> {
        let index = self.outputs.len();
        let queue = self.view.core.fanout.new_queue(QUEUE_DATAGRAMS);
        let counters = Arc::new(OutputCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let core = self.view.core.clone();
        let mut part = start_output(
            cfg,
            index,
            queue.clone(),
            counters.clone(),
            stop.clone(),
            &core,
        )?;
        let conns = part.conns();
        let events = part.events.take();
        {
            let mut outputs = lock(&self.view.outputs);
            outputs.push(OutputView {
                uri: cfg.display(),
                queue: queue.clone(),
                counters,
                conns,
                udp: matches!(cfg.base(), OutputConfig::Udp(_)),
                sink: part.sink.clone(),
            });
            lock(&self.view.cfg).outputs.push(cfg.clone());
        }
        self.view.core.fanout.add(queue.clone());
        // The watcher may be gone (channel stopping): nothing to watch then.
        let _ = self.watch.send(WatchChange::Added {
            events,
            queue: queue.clone(),
        });
        self.outputs.push(OutputPart { part, stop, queue });
        Ok(index)
    }

    /// Adds an output to the running channel; the others go on untouched.
    /// Its index (0-based) in the snapshot's outputs. A refusal (a bad
    /// setting, a port the channel uses, too many outputs, a stopped
    /// channel) leaves the channel as it was.
    pub fn add_output(&mut self, cfg: OutputConfig) -> Result<usize, ChannelError> {
        let name = self.view.config().display_name();
        if self.view.core.stopped() {
            return Err(ChannelError::Stopped(name));
        }
        let mut next = self.view.config();
        next.outputs.push(cfg.clone());
        if next.outputs.len() > MAX_OUTPUTS {
            return Err(ChannelConfigError::TooMany {
                name,
                what: "outputs",
                count: next.outputs.len(),
                max: MAX_OUTPUTS,
            }
            .into());
        }
        next.validate()?;
        check_ports(&next)?;
        let index = self.open_output(&cfg)?;
        self.view.core.event(
            format!("output {} added: {}", index + 1, cfg.display()),
            false,
        );
        Ok(index)
    }

    /// Removes output `index` (0-based): it stops at once, its thread is
    /// joined; the outputs after it move up one place. The last output
    /// stays (a channel has at least one).
    pub fn remove_output(&mut self, index: usize) -> Result<(), ChannelError> {
        let count = self.outputs.len();
        if index >= count {
            return Err(ChannelError::NoSuchOutput { index, count });
        }
        if count == 1 {
            return Err(ChannelError::LastOutput(self.view.config().display_name()));
        }
        let mut gone = self.outputs.remove(index);
        self.view.core.fanout.remove(&gone.queue);
        gone.stop();
        let uri = {
            let mut outputs = lock(&self.view.outputs);
            lock(&self.view.cfg).outputs.remove(index);
            outputs.remove(index).uri
        };
        let _ = self.watch.send(WatchChange::Removed(index));
        self.view
            .core
            .event(format!("output {} removed: {uri}", index + 1), false);
        Ok(())
    }
}
