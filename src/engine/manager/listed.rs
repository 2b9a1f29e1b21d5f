//! Entries listed but not started (`enabled = false` in a file's table,
//! or a channel created or changed stopped through `serve`'s API): their
//! settings checked as the engine checks any, nothing opened, no port
//! bound, so another program may hold their ports meanwhile. They start
//! in place ([`StreamManager::restart`], [`StreamManager::restart_channel`]).

use super::channels::channel_error;
use super::{ManagerError, StreamManager};
use crate::engine::channel::{Channel, ChannelConfig, ChannelError};
use crate::engine::config::StreamConfig;
use crate::engine::link::hub::ListenHold;
use crate::engine::ports::Lineup;
use crate::engine::status::StreamId;
use crate::engine::stream::RunningStream;

fn checked_stream(cfg: &StreamConfig) -> Result<(), ManagerError> {
    cfg.validate().map_err(|e| ManagerError::Start {
        name: cfg.display_name(),
        source: e.into(),
    })
}

fn checked_channel(cfg: &ChannelConfig) -> Result<(), ManagerError> {
    cfg.validate()
        .map_err(|e| channel_error(cfg, ChannelError::Config(e)))
}

impl StreamManager {
    /// [`Self::start_all`], the entries whose flag in `enabled` is false
    /// listed, not started (one flag per entry, streams then channels; a
    /// missing flag is true). Those started are checked as one set, those
    /// listed by their settings only. The ids in the line-up's order.
    pub fn start_enabled(
        &mut self,
        lineup: Lineup,
        enabled: &[bool],
    ) -> Result<Vec<StreamId>, ManagerError> {
        let on = |i: usize| enabled.get(i).copied().unwrap_or(true);
        let n = lineup.streams.len();
        let mut running = Lineup::default();
        for (i, cfg) in lineup.streams.iter().enumerate() {
            match on(i) {
                true => running.streams.push(cfg.clone()),
                false => checked_stream(cfg)?,
            }
        }
        for (i, cfg) in lineup.channels.iter().enumerate() {
            match on(n + i) {
                true => running.channels.push(cfg.clone()),
                false => checked_channel(cfg)?,
            }
        }
        self.check_all(&running)?;
        // Ports listen once every stream of the line-up is on them.
        let _hold = ListenHold::new();
        let mut ids = Vec::new();
        let started = (|| {
            for (i, cfg) in lineup.streams.into_iter().enumerate() {
                ids.push(match on(i) {
                    true => self.start(cfg)?,
                    false => self.list_stream(cfg),
                });
            }
            for (i, cfg) in lineup.channels.into_iter().enumerate() {
                ids.push(match on(n + i) {
                    true => self.launch_channel(cfg)?,
                    false => self.insert_channel(Channel::listed(cfg, Default::default(), false)),
                });
            }
            Ok(())
        })();
        if let Err(e) = started {
            for id in ids {
                // Just added by us: it exists.
                let _ = self.remove(id);
            }
            return Err(e);
        }
        Ok(ids)
    }

    /// A player listed, not started (its settings were checked).
    fn list_stream(&mut self, cfg: StreamConfig) -> StreamId {
        let id = self.next_id;
        self.next_id += 1;
        let stream = RunningStream::listed(id, cfg, self.notify.clone());
        self.streams.insert(id, stream);
        (self.notify)();
        id
    }

    /// A channel listed, not started: its settings checked, nothing bound.
    pub fn list_channel(&mut self, cfg: ChannelConfig) -> Result<StreamId, ManagerError> {
        checked_channel(&cfg)?;
        Ok(self.insert_channel(Channel::listed(cfg, Default::default(), false)))
    }

    /// Channel `id` stopped and given the settings `cfg` without starting
    /// (same id, its events going on): nothing bound.
    pub fn relist_channel(&mut self, id: StreamId, cfg: ChannelConfig) -> Result<(), ManagerError> {
        checked_channel(&cfg)?;
        let entry = (self.channels.get_mut(&id)).ok_or(ManagerError::NoSuchStream(id))?;
        entry.channel.stop();
        let listed = Channel::listed(cfg, entry.channel.event_log(), false);
        entry.reader.replace(listed.view.clone());
        entry.channel = listed;
        (self.notify)();
        Ok(())
    }
}
