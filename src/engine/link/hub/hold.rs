//! Holding back `listen` on shared ports while a line-up starts.

use super::Hub;
use crate::engine::shared::lock;
use std::sync::{Arc, Mutex, Weak};

/// Ports opened while a line-up starts, listening only once every stream
/// of the line-up is on them: a caller that came early is not refused for
/// a stream still starting (libsrt callers such as srt-live-transmit stop
/// retrying after a refusal); its handshake goes unanswered and it retries.
static HELD: Mutex<(u32, Vec<Weak<Hub>>)> = Mutex::new((0, Vec::new()));

/// Holds back `listen` on the ports a line-up opens until dropped.
pub(crate) struct ListenHold(());

impl ListenHold {
    pub(crate) fn new() -> Self {
        lock(&HELD).0 += 1;
        Self(())
    }
}

impl Drop for ListenHold {
    fn drop(&mut self) {
        let hubs = {
            let mut held = lock(&HELD);
            held.0 = held.0.saturating_sub(1);
            if held.0 > 0 {
                return;
            }
            std::mem::take(&mut held.1)
        };
        for hub in hubs.iter().filter_map(Weak::upgrade) {
            if let Err(e) = hub.start_listening() {
                tracing::warn!(port = hub.addr.port(), "cannot listen: {e}");
            }
        }
    }
}

/// Listens now, or once the line-up being started is all on the port.
pub(super) fn listen_when_ready(hub: &Arc<Hub>) -> Result<(), crate::engine::srt::SrtError> {
    let mut held = lock(&HELD);
    if held.0 > 0 {
        held.1.push(Arc::downgrade(hub));
        return Ok(());
    }
    drop(held);
    hub.start_listening()
}
