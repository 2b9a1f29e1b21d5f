//! What `serve`'s API asks of the manager beyond the GUI's and the CLI's
//! needs: a channel's settings replaced with every port checked first,
//! including against other programs, so that a refused change leaves the
//! running channel as it was.

use super::{ManagerError, StreamManager};
use crate::engine::channel::ChannelConfig;
use crate::engine::ports;
use crate::engine::status::StreamId;

impl StreamManager {
    /// [`Self::restart_channel`] with `cfg`, after checking that each port
    /// the new settings bind that nothing here holds yet (the channel's
    /// own ports included) is free of other programs: a port taken
    /// elsewhere is refused before the running channel is touched.
    pub fn replace_channel(
        &mut self,
        id: StreamId,
        cfg: ChannelConfig,
    ) -> Result<(), ManagerError> {
        if !self.is_channel(id) {
            return Err(ManagerError::NoSuchStream(id));
        }
        self.no_port_held_elsewhere(&cfg, id, None)?;
        self.restart_channel(id, Some(cfg))
    }

    /// [`Self::restart_channel`] with its settings as they are; when it
    /// does not start and a port it binds is held by another program,
    /// that is the error (a port conflict, not a failure inside).
    pub fn start_channel_in_place(&mut self, id: StreamId) -> Result<(), ManagerError> {
        let Err(e) = self.restart_channel(id, None) else {
            return Ok(());
        };
        let cfg = self
            .channel_config(id)
            .ok_or(ManagerError::NoSuchStream(id))?;
        self.no_port_held_elsewhere(&cfg, id, Some(id))?;
        Err(e)
    }

    /// A port `cfg` (channel `id`) binds that another program holds, as the
    /// error; ports of our running channels (but `except`) are ours.
    fn no_port_held_elsewhere(
        &self,
        cfg: &ChannelConfig,
        id: StreamId,
        except: Option<StreamId>,
    ) -> Result<(), ManagerError> {
        let held = self.running_binds(except);
        for b in ports::channel_binds(cfg, (true, id)) {
            let ours = held.iter().any(|o| o.port == b.port);
            if !ours && ports::busy_elsewhere(&b) {
                return Err(ManagerError::PortBusy {
                    name: b.owner.clone(),
                    port: b.port,
                });
            }
        }
        Ok(())
    }
}
