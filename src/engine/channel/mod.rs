//! Channels: one live input (of an ordered list: primary, then backups)
//! relayed to any number of outputs, every byte of every PID untouched.
//!
//! ```text
//!  input_srt (listener m=publish / caller / rendezvous) ─┐
//!  input_udp (unicast, multicast ASM/SSM) ───────────────┼─► failover ─► fanout ─┬─► output_srt (srctime)
//!  slate (a file, looped, paced by its PCR) ─────────────┘  (health,             ├─► output_udp (paced)
//!                                                            switch, repair)     ├─► output_record (file, rotated)
//!                                                                                ├─► output_analyze (TR 101 290)
//!                                                                                └─► output_monitor (decode, alarms)
//! ```
//!
//! - Each datagram carries its **schedule time** (µs on libsrt's clock): an
//!   SRT input's `srctime` moved to the time it was delivered, a UDP input's
//!   arrival. SRT outputs pass it on as their `srctime`; UDP outputs depart
//!   on it plus a constant delay.
//! - Every input runs at once (backups kept hot); each datagram goes to
//!   [`failover`]: its input's health is judged, the switch decides what is
//!   on air (an input, or the slate when all are down), and only that
//!   source's datagrams reach the fan-out, through the timeline repair.
//! - [`fanout`]: one read feeds every output; each output has its own
//!   bounded queue, so a slow or dead one drops its own oldest data
//!   (counted, alarmed) and never delays the others.
//! - Local outputs ([`sink`], URIs in [`sink_uri`]): the receiver's parts
//!   (recorder, analyzer, confidence monitor) on a channel's output; a
//!   failure there is that output's alarm and `failed` state only.
//! - [`running::Channel`]: starts it all, one monitor thread, one snapshot
//!   ([`status::ChannelSnapshot`]) and one event log in words, read through
//!   [`view::ChannelReader`] without waiting on the channel; [`outputs`]:
//!   one function starts every output kind, at the start and when an output
//!   is added to a running channel (or removed) without touching the others.
//! - A receiver is a channel ([`as_receiver`]): an SRT input with an analyze
//!   output (and record, monitor outputs when asked) whose bytes go out as
//!   they came; its face (`receiver_face`) computes what `receive` and the
//!   GUI show, in the channel's one monitor loop.

pub(crate) mod as_player;
pub(crate) mod as_receiver;
pub mod config;
mod failover;
mod fanout;
mod iface;
mod input_file;
mod input_srt;
mod input_udp;
mod links;
mod output_analyze;
mod output_monitor;
mod output_profile;
mod output_record;
mod output_srt;
mod output_udp;
mod outputs;
mod player_watch;
pub mod profile;
pub(crate) mod profile_uri;
mod profile_values;
mod realign;
mod receiver_face;
mod repace;
mod running;
mod running_monitor;
mod sink;
pub(crate) mod sink_uri;
mod slate;
pub mod status;
mod transcode_watch;
mod txtime;
pub mod udp_uri;
mod view;

pub use config::{ChannelConfig, ChannelConfigError, InputConfig, OutputConfig, TranscodeOutput};
pub use links::{ChannelLinks, ConnReading};
pub use profile::{Profile, ProfileError, ProfileSet};
pub use running::{Channel, ChannelError};
pub(crate) use running::{Core, OutputCounters};
pub use status::{
    ChannelEvent, ChannelSnapshot, ChannelState, InputSnapshot, OutputSnapshot, RecordingStatus,
    TranscodeStatus,
};
pub use view::ChannelReader;

/// One datagram on its way from an input to the outputs.
#[derive(Debug)]
pub(crate) struct Datagram {
    pub(crate) payload: Box<[u8]>,
    /// When it is due, µs on libsrt's clock (`srt::time_now_us`).
    pub(crate) sched_us: i64,
}

/// Most bytes of one SRT live message (7 TS packets): larger UDP
/// datagrams are cut into pieces this size.
pub(crate) const MAX_MESSAGE: usize = 1316;
