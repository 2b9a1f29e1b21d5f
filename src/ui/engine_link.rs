//! The UI's link to the engine: commands go to an engine thread (which owns
//! the StreamManager and may block on GStreamer), readers and replies come back.
//! The UI thread never waits on the engine.

use crate::engine::channel::{ChannelConfig, ChannelReader, OutputConfig};
use crate::engine::receiver::{ReceiveRequest, ReceiverReader};
use crate::engine::{lock, StreamConfig, StreamId, StreamManager, StreamReader};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub enum Command {
    Start(Box<StreamConfig>),
    Stop(StreamId),
    /// Stop and start again in place (same id and row; a player or a
    /// receiver), with the same settings or, after an edit, new ones (taken
    /// without a restart when they allow it).
    Restart(StreamId, Option<Box<StreamConfig>>),
    /// Removes a player or a receiver (stopping it first).
    Remove(StreamId),
    StartReceiver(Box<ReceiveRequest>),
    /// The confidence monitor of a player or receiver on or off.
    Monitor {
        id: StreamId,
        on: bool,
        /// The programme of an MPTS to show (`None`: the first).
        program: Option<u16>,
    },
    /// Channels: start one, add or remove an output while it runs (stop,
    /// restart and remove take the channel's id like any other).
    Channel(ChannelCommand),
    StopAll,
}

pub enum ChannelCommand {
    Start(Box<ChannelConfig>),
    AddOutput(StreamId, Box<OutputConfig>),
    /// The output at this index (in the channel's order).
    RemoveOutput(StreamId, usize),
}

/// The engine's answers about channels.
pub enum ChannelReply {
    Started {
        id: StreamId,
        name: String,
    },
    /// Nothing started; the engine's words.
    Refused {
        message: String,
    },
    OutputAdded {
        id: StreamId,
        index: usize,
    },
    /// The output was not added; the others were not touched.
    OutputRefused {
        id: StreamId,
        message: String,
    },
    OutputRemoved {
        id: StreamId,
        index: usize,
    },
}

/// What the engine thread reports back, for toasts.
pub enum Reply {
    Started {
        id: StreamId,
        name: String,
    },
    /// Restarted in place; `edited`: with new settings.
    Restarted {
        id: StreamId,
        edited: bool,
    },
    /// Edited settings taken without a restart (a new name).
    Applied {
        id: StreamId,
    },
    Refused {
        name: String,
        message: String,
    },
    ReceiverStarted {
        id: StreamId,
        name: String,
    },
    ReceiverRefused {
        name: String,
        message: String,
    },
    Failed {
        message: String,
    },
    Channel(ChannelReply),
}

pub struct EngineLink {
    tx: Sender<Command>,
    replies: Receiver<Reply>,
    readers: Arc<Mutex<Vec<StreamReader>>>,
    receivers: Arc<Mutex<Vec<ReceiverReader>>>,
    channels: Arc<Mutex<Vec<ChannelReader>>>,
    /// The engine thread, joined at shutdown so that every stream has
    /// stopped and every recording is flushed before the process ends.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EngineLink {
    /// Starts the engine thread. `repaint` is called (from engine threads)
    /// whenever something the UI shows has changed.
    pub fn start(stats_interval: Duration, repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = mpsc::channel::<Command>();
        let (reply_tx, replies) = mpsc::channel::<Reply>();
        let published = Published {
            readers: Arc::new(Mutex::new(Vec::new())),
            receivers: Arc::new(Mutex::new(Vec::new())),
            channels: Arc::new(Mutex::new(Vec::new())),
        };
        let shared = published.clone();
        let spawned = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || engine_thread(rx, reply_tx, shared, stats_interval, repaint));
        let thread = spawned
            .map_err(|e| tracing::error!("cannot start the engine thread: {e}"))
            .ok();
        Self {
            tx,
            replies,
            readers: published.readers,
            receivers: published.receivers,
            channels: published.channels,
            thread,
        }
    }

    pub fn send(&self, c: Command) {
        // The engine thread lives as long as the app; a send error means it
        // died, which its own log already says.
        let _ = self.tx.send(c);
    }

    pub fn readers(&self) -> Vec<StreamReader> {
        lock(&self.readers).clone()
    }

    pub fn receivers(&self) -> Vec<ReceiverReader> {
        lock(&self.receivers).clone()
    }

    /// Readers of the engine's channels, in id order.
    pub fn channels(&self) -> Vec<ChannelReader> {
        lock(&self.channels).clone()
    }

    pub fn try_reply(&self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }
}

impl EngineLink {
    /// Stops every player and receiver (recordings flushed) and waits for
    /// the engine thread to end. Safe to call more than once.
    pub fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        // A send error means the thread already ended; joining says how.
        let _ = self.tx.send(Command::StopAll);
        if thread.join().is_err() {
            tracing::error!("the engine thread panicked; streams may not have stopped cleanly");
        }
    }
}

impl Drop for EngineLink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the engine thread publishes for the UI after each command.
#[derive(Clone)]
struct Published {
    readers: Arc<Mutex<Vec<StreamReader>>>,
    receivers: Arc<Mutex<Vec<ReceiverReader>>>,
    channels: Arc<Mutex<Vec<ChannelReader>>>,
}

impl Published {
    fn update(&self, manager: &StreamManager) {
        *lock(&self.readers) = manager.readers();
        *lock(&self.receivers) = manager.receiver_readers();
        *lock(&self.channels) = manager.channel_readers();
    }
}

fn channel_command(manager: &mut StreamManager, cmd: ChannelCommand) -> ChannelReply {
    match cmd {
        ChannelCommand::Start(cfg) => {
            let name = cfg.display_name();
            match manager.start_channel(*cfg) {
                Ok(id) => ChannelReply::Started { id, name },
                Err(e) => ChannelReply::Refused {
                    message: e.to_string(),
                },
            }
        }
        ChannelCommand::AddOutput(id, out) => match manager.add_output(id, *out) {
            Ok(index) => ChannelReply::OutputAdded { id, index },
            Err(e) => ChannelReply::OutputRefused {
                id,
                message: e.to_string(),
            },
        },
        ChannelCommand::RemoveOutput(id, index) => match manager.remove_output(id, index) {
            Ok(_) => ChannelReply::OutputRemoved { id, index },
            Err(e) => ChannelReply::OutputRefused {
                id,
                message: e.to_string(),
            },
        },
    }
}

/// A restart in place of a player or a receiver, or an edit applied.
fn restart(manager: &mut StreamManager, id: StreamId, cfg: Option<StreamConfig>) -> Reply {
    let edited = cfg.is_some();
    let done = match cfg {
        _ if manager.is_receiver(id) => manager.restart_receiver(id).map(|()| true),
        Some(cfg) => manager.apply(id, cfg),
        None => manager.restart(id, None).map(|()| true),
    };
    match done {
        Ok(true) => Reply::Restarted { id, edited },
        Ok(false) => Reply::Applied { id },
        Err(e) => Reply::Failed {
            message: e.to_string(),
        },
    }
}

fn engine_thread(
    rx: Receiver<Command>,
    replies: Sender<Reply>,
    published: Published,
    stats_interval: Duration,
    repaint: Arc<dyn Fn() + Send + Sync>,
) {
    let mut manager = match StreamManager::new(stats_interval, repaint.clone()) {
        Ok(m) => m,
        Err(e) => {
            let _ = replies.send(Reply::Failed {
                message: e.to_string(),
            });
            repaint();
            return;
        }
    };
    let start = |manager: &mut StreamManager, cfg: StreamConfig| {
        let name = cfg.display_name();
        match manager.start(cfg) {
            Ok(id) => Reply::Started { id, name },
            Err(e) => Reply::Refused {
                name,
                message: e.to_string(),
            },
        }
    };
    while let Ok(cmd) = rx.recv() {
        let reply = match cmd {
            Command::Start(cfg) => Some(start(&mut manager, *cfg)),
            Command::Stop(id) => manager.stop(id).err().map(|e| Reply::Failed {
                message: e.to_string(),
            }),
            Command::Restart(id, cfg) => Some(restart(&mut manager, id, cfg.map(|c| *c))),
            Command::Remove(id) => manager.remove(id).err().map(|e| Reply::Failed {
                message: e.to_string(),
            }),
            Command::StartReceiver(req) => {
                let name = req.config.endpoint();
                Some(match manager.start_receiver(*req) {
                    Ok(id) => Reply::ReceiverStarted { id, name },
                    Err(e) => Reply::ReceiverRefused {
                        name,
                        message: e.to_string(),
                    },
                })
            }
            Command::Monitor { id, on, program } => manager
                .set_monitor(
                    id,
                    on.then(|| crate::media::MonitorSettings {
                        program,
                        ..Default::default()
                    }),
                )
                .err()
                .map(|e| Reply::Failed {
                    message: e.to_string(),
                }),
            Command::Channel(c) => Some(Reply::Channel(channel_command(&mut manager, c))),
            Command::StopAll => {
                manager.stop_all();
                published.update(&manager);
                break;
            }
        };
        published.update(&manager);
        if let Some(r) = reply {
            let _ = replies.send(r);
        }
        repaint();
    }
}
