//! What one scrape is built from: every snapshot of the manager, taken at
//! once (cheap: the manager can be unlocked before the text is encoded).

use crate::engine::channel::{ChannelConfig, ChannelLinks, ChannelSnapshot};
use crate::engine::config::StreamConfig;
use crate::engine::receiver::ReceiverSnapshot;
use crate::engine::{StreamManager, StreamSnapshot};
use crate::ts::analyzer::Report;
use std::sync::Arc;

/// One channel: its snapshot, settings and SRT connections.
#[derive(Clone, Debug)]
pub struct ChannelReading {
    pub id: u64,
    pub snapshot: ChannelSnapshot,
    pub config: ChannelConfig,
    pub links: ChannelLinks,
}

/// One receiver: its snapshot, settings and latest analysis.
#[derive(Clone, Debug)]
pub struct ReceiverReading {
    pub snapshot: ReceiverSnapshot,
    pub config: StreamConfig,
    pub analysis: Option<Arc<Report>>,
}

/// Every channel, player and receiver of a manager at one moment.
#[derive(Clone, Debug, Default)]
pub struct Readings {
    pub channels: Vec<ChannelReading>,
    pub players: Vec<StreamSnapshot>,
    pub receivers: Vec<ReceiverReading>,
}

impl Readings {
    /// Reads `manager` now (every snapshot, and libsrt's figures of every
    /// channel connection).
    pub fn of(manager: &StreamManager) -> Self {
        let channels = manager
            .channel_readers()
            .iter()
            .map(|r| ChannelReading {
                id: r.id(),
                snapshot: r.snapshot(),
                config: r.config(),
                links: r.srt_links(),
            })
            .collect();
        let players = manager.readers().iter().map(|r| r.snapshot()).collect();
        let receivers = manager
            .receiver_readers()
            .iter()
            .map(|r| ReceiverReading {
                snapshot: r.snapshot(),
                config: r.config().clone(),
                analysis: r.latest_analysis(),
            })
            .collect();
        Self {
            channels,
            players,
            receivers,
        }
    }
}
