//! The engine: playout (our TS reader and pacer → libsrt) and receive mode
//! (libsrt → live analysis and recording), all owned by the stream manager.
//! Knows nothing of any UI.

pub mod changes;
pub mod channel;
pub mod config;
pub mod link;
pub mod manager;
mod monitor;
pub mod pacer;
pub mod ports;
pub mod preflight;
pub mod priority;
pub mod reader;
pub mod receiver;
pub mod receiver_commands;
mod recorder;
pub mod restamp;
pub mod secret;
mod sender;
mod shared;
pub mod source;
pub mod srt;
pub mod srt_params;
pub mod stats;
pub mod status;
pub mod stream;
pub mod switch;

pub use config::{Encryption, LoopMode, Mode, StreamConfig};
pub use manager::{ManagerError, StreamManager};
pub use ports::Lineup;
pub use secret::Passphrase;
pub use shared::lock;
pub use status::{EventKind, StreamEvent, StreamId, StreamSnapshot, StreamState};
pub use stream::StreamReader;
