//! The slate: a TS file played when every input is down, looped seamlessly
//! and paced by its own PCR — the same paced-file input as a channel's
//! file input ([`super::input_file`]). It runs from the start, kept hot like
//! a backup: its datagrams are offered to the switch with their schedule
//! times, and only go out while the slate is on air.

use super::input_file::{start_file, Target};
use super::running::{ChannelError, Core, Part};
use crate::engine::config::LoopMode;
use std::path::Path;
use std::sync::Arc;

/// Probes and opens `path`, then starts the thread that paces it.
pub(crate) fn start(path: &Path, core: Arc<Core>) -> Result<Part, ChannelError> {
    start_file(path, LoopMode::Seamless, Target::Slate, core)
}
