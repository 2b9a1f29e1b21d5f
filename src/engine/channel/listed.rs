//! A channel listed but not started (`enabled = false` in its table, or
//! created stopped through the API): its settings and its event log, no
//! thread, no socket, no port bound. It shows as stopped and starts in
//! place as any stopped channel does (`StreamManager::restart_channel`).

use super::config::{ChannelConfig, OutputConfig};
use super::fanout::OutputQueue;
use super::running::{Channel, Core};
use super::status::EventLog;
use super::view::{OutputView, View};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

impl Channel {
    /// `cfg` listed, stopped, nothing opened; its events go on in
    /// `events`. `direct`: a player's channel (its input is on air).
    pub(crate) fn listed(cfg: ChannelConfig, events: Arc<Mutex<EventLog>>, direct: bool) -> Self {
        let core = Core::new(&cfg, events, direct);
        core.stop.store(true, Ordering::SeqCst);
        let core = Arc::new(core);
        let outputs = (cfg.outputs.iter())
            .map(|o| OutputView {
                uri: o.display(),
                // Never fed: shown with its counters at zero.
                queue: OutputQueue::new(1),
                counters: Arc::default(),
                conns: None,
                udp: matches!(o, OutputConfig::Udp(_)),
                sink: None,
            })
            .collect();
        core.event(
            format!(
                "channel '{}' listed, not started (enabled = false): nothing bound until it is started",
                cfg.display_name()
            ),
            false,
        );
        let (watch, _) = mpsc::channel();
        Channel {
            view: Arc::new(View {
                core,
                input_conns: cfg.inputs.iter().map(|_| None).collect(),
                outputs: Mutex::new(outputs),
                cfg: Mutex::new(cfg),
            }),
            inputs: Vec::new(),
            outputs: Vec::new(),
            watch,
            stop_flag: Arc::new(AtomicBool::new(true)),
            monitor: None,
        }
    }
}
