//! The manager's channels, in the same id space as players and receivers:
//! started (alone or in a checked line-up with streams), stopped, removed,
//! restarted in place, read through cheap [`ChannelReader`]s, and given or
//! relieved of outputs while they run.

use super::{ManagerError, StreamManager};
use crate::engine::channel::{
    Channel, ChannelConfig, ChannelError, ChannelEvent, ChannelReader, ChannelSnapshot,
    OutputConfig,
};
use crate::engine::ports::{self, Bind, Lineup};
use crate::engine::status::StreamId;

/// A channel the manager runs, and the reader everyone shares.
pub(super) struct ChannelEntry {
    pub(super) channel: Channel,
    pub(super) reader: ChannelReader,
}

pub(super) fn channel_error(cfg: &ChannelConfig, source: ChannelError) -> ManagerError {
    ManagerError::Channel {
        name: cfg.display_name(),
        source: Box::new(source),
    }
}

fn shared(b: &Bind, other: &Bind, why: crate::engine::preflight::PortConflict) -> ManagerError {
    ManagerError::PortShared {
        name: b.owner.clone(),
        port: b.port,
        other: other.owner.clone(),
        why,
    }
}

impl StreamManager {
    /// The ports every running player, receiver and channel binds, but
    /// those of `except` (one being restarted or changed).
    pub(super) fn running_binds(&self, except: Option<StreamId>) -> Vec<Bind> {
        let mut out = Vec::new();
        for (id, s) in &self.streams {
            let snap = s.snapshot();
            if Some(*id) != except && snap.state.is_running() {
                out.extend(ports::stream_bind(&snap.config, false));
            }
        }
        for (id, r) in &self.receivers {
            let reader = r.reader();
            if Some(*id) != except && reader.snapshot().state.is_running() {
                out.extend(ports::stream_bind(reader.config(), true));
            }
        }
        out.extend(self.channel_binds(except));
        out
    }

    /// The ports the running channels bind, but those of `except`.
    pub(super) fn channel_binds(&self, except: Option<StreamId>) -> Vec<Bind> {
        self.channels
            .iter()
            .filter(|(id, e)| Some(**id) != except && !e.channel.view.core.stopped())
            .flat_map(|(id, e)| ports::channel_binds(&e.reader.config(), (true, *id)))
            .collect()
    }

    /// `new[from..]` against the running line-up (but `except`) and the
    /// binds before each in `new`; then, for a port nothing here binds
    /// yet, against other programs.
    fn check_binds(
        &self,
        new: &[Bind],
        from: usize,
        except: Option<StreamId>,
    ) -> Result<(), ManagerError> {
        let running = self.running_binds(except);
        for (i, b) in new.iter().enumerate().skip(from) {
            for other in running.iter().chain(&new[..i]) {
                ports::may_share(b, other).map_err(|why| shared(b, other, why))?;
            }
        }
        for (i, b) in new.iter().enumerate().skip(from) {
            let held = running.iter().chain(&new[..i]).any(|o| o.port == b.port);
            if !held && ports::busy_elsewhere(b) {
                return Err(ManagerError::PortBusy {
                    name: b.owner.clone(),
                    port: b.port,
                });
            }
        }
        Ok(())
    }

    /// Checks a whole line-up before any of it starts: each player's
    /// settings and file, each channel's settings, every port among them
    /// (shared only by stream ID, as the port's hub allows), against what
    /// runs, and against other programs on this machine. The first refusal
    /// is returned, naming both sides.
    pub fn check_all(&self, lineup: &Lineup) -> Result<(), ManagerError> {
        self.check_streams(&lineup.streams)?;
        for cfg in &lineup.channels {
            cfg.validate()
                .map_err(|e| channel_error(cfg, ChannelError::Config(e)))?;
        }
        let mut binds: Vec<Bind> = lineup
            .streams
            .iter()
            .filter_map(|c| ports::stream_bind(c, false))
            .collect();
        let from = binds.len();
        for (i, cfg) in lineup.channels.iter().enumerate() {
            binds.extend(ports::channel_binds(cfg, (false, i as u64)));
        }
        self.check_binds(&binds, from, None)
    }

    /// Starts a whole line-up, or nothing: [`Self::check_all`] first, and
    /// if one still fails to start, those started are removed again. The
    /// ids: the streams', then the channels', in order.
    pub fn start_all(&mut self, lineup: Lineup) -> Result<Vec<StreamId>, ManagerError> {
        self.start_enabled(lineup, &[])
    }

    /// Starts a channel (checked as a line-up of one); other streams and
    /// channels are not affected whatever happens.
    pub fn start_channel(&mut self, cfg: ChannelConfig) -> Result<StreamId, ManagerError> {
        self.check_all(&Lineup {
            streams: Vec::new(),
            channels: vec![cfg.clone()],
        })?;
        self.launch_channel(cfg)
    }

    pub(super) fn launch_channel(&mut self, cfg: ChannelConfig) -> Result<StreamId, ManagerError> {
        let channel = Channel::start(cfg.clone()).map_err(|e| channel_error(&cfg, e))?;
        Ok(self.insert_channel(channel))
    }

    /// `channel` (running or listed) given the next id.
    pub(super) fn insert_channel(&mut self, channel: Channel) -> StreamId {
        let id = self.next_id;
        self.next_id += 1;
        let reader = channel.reader(id);
        self.channels.insert(id, ChannelEntry { channel, reader });
        (self.notify)();
        id
    }

    /// Restarts a channel in its place (same id, same readers, its events
    /// going on), with `cfg` when given. New settings are checked first;
    /// if the channel then fails to start, it stays stopped with its
    /// previous settings and the error says why.
    pub fn restart_channel(
        &mut self,
        id: StreamId,
        cfg: Option<ChannelConfig>,
    ) -> Result<(), ManagerError> {
        let entry = self
            .channels
            .get(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let cfg = cfg.unwrap_or_else(|| entry.reader.config());
        cfg.validate()
            .map_err(|e| channel_error(&cfg, ChannelError::Config(e)))?;
        let binds = ports::channel_binds(&cfg, (true, id));
        for (i, b) in binds.iter().enumerate() {
            for other in self.running_binds(Some(id)).iter().chain(&binds[..i]) {
                ports::may_share(b, other).map_err(|why| shared(b, other, why))?;
            }
        }
        let entry = self
            .channels
            .get_mut(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        entry.channel.stop();
        let result = match Channel::start_with_log(cfg.clone(), entry.channel.event_log()) {
            Ok(new) => {
                entry.reader.replace(new.view.clone());
                entry.channel = new;
                Ok(())
            }
            Err(e) => Err(channel_error(&cfg, e)),
        };
        (self.notify)();
        result
    }

    /// Adds an output to running channel `id`; its other outputs go on
    /// untouched. Checked against every port in use first; a refusal
    /// leaves the channel as it was. The new output's index (0-based).
    pub fn add_output(&mut self, id: StreamId, cfg: OutputConfig) -> Result<usize, ManagerError> {
        let entry = self
            .channels
            .get(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let mut next = entry.reader.config();
        let before = ports::channel_binds(&next, (true, id)).len();
        next.outputs.push(cfg.clone());
        let binds = ports::channel_binds(&next, (true, id));
        if binds.len() > before {
            // Only the new output's port: the channel's own were checked.
            self.check_binds(&binds, before, Some(id))?;
        }
        let entry = self
            .channels
            .get_mut(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let index = entry
            .channel
            .add_output(cfg)
            .map_err(|e| channel_error(&next, e))?;
        (self.notify)();
        Ok(index)
    }

    /// Removes output `index` (0-based) of channel `id`; the others go on.
    pub fn remove_output(&mut self, id: StreamId, index: usize) -> Result<(), ManagerError> {
        let entry = self
            .channels
            .get_mut(&id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        let cfg = entry.reader.config();
        entry
            .channel
            .remove_output(index)
            .map_err(|e| channel_error(&cfg, e))?;
        (self.notify)();
        Ok(())
    }

    /// True when `id` is a channel.
    pub fn is_channel(&self, id: StreamId) -> bool {
        self.channels.contains_key(&id)
    }

    /// A channel's settings as they are now (outputs added live included).
    pub fn channel_config(&self, id: StreamId) -> Option<ChannelConfig> {
        self.channels.get(&id).map(|e| e.reader.config())
    }

    /// Readers for every channel, in id order.
    pub fn channel_readers(&self) -> Vec<ChannelReader> {
        self.channels.values().map(|e| e.reader.clone()).collect()
    }

    /// The reader of channel `id`, or of the channel a player or a
    /// receiver `id` runs as (players and receivers are channels; they are
    /// listed with the players and receivers, not in [`Self::channel_readers`]).
    pub fn channel_reader(&self, id: StreamId) -> Option<ChannelReader> {
        if let Some(e) = self.channels.get(&id) {
            return Some(e.reader.clone());
        }
        if let Some(s) = self.streams.get(&id) {
            return Some(s.channel_reader());
        }
        self.receivers.get(&id).and_then(|r| r.reader().channel())
    }

    pub fn channel_snapshot(&self, id: StreamId) -> Option<ChannelSnapshot> {
        self.channel_reader(id).map(|r| r.snapshot())
    }

    pub fn channel_events_since(
        &self,
        id: StreamId,
        since: u64,
    ) -> Option<(Vec<ChannelEvent>, u64)> {
        self.channels.get(&id).map(|e| e.reader.events_since(since))
    }

    /// Stops channel `id`; false when `id` is no channel.
    pub(super) fn stop_channel(&mut self, id: StreamId) -> bool {
        self.channels
            .get_mut(&id)
            .map(|e| e.channel.stop())
            .is_some()
    }

    /// Stops and forgets channel `id`; false when `id` is no channel.
    pub(super) fn remove_channel(&mut self, id: StreamId) -> bool {
        self.channels
            .remove(&id)
            .map(|mut e| e.channel.stop())
            .is_some()
    }

    pub(super) fn stop_channels(&mut self) {
        for e in self.channels.values_mut() {
            e.channel.stop();
        }
    }

    /// Every running channel's inputs have ended (files played once
    /// reached their end); true with no channel running.
    pub fn channel_inputs_ended(&self) -> bool {
        self.channels
            .values()
            .all(|e| e.channel.view.core.stopped() || e.channel.inputs_ended())
    }

    /// Nothing left to play: no player or receiver runs, and every running
    /// channel's inputs have ended (`play --loop off FILE udp://…`).
    pub fn all_played(&self) -> bool {
        !self.players_running() && self.channel_inputs_ended()
    }

    pub(super) fn channels_running(&self) -> bool {
        self.channels
            .values()
            .any(|e| !e.channel.view.core.stopped())
    }

    /// True when a running channel binds `port`.
    pub(super) fn channel_binds_port(&self, port: Option<u16>) -> bool {
        port.is_some_and(|p| self.channel_binds(None).iter().any(|b| b.port == p))
    }
}
