//! Failover for channels, as pure code over bytes, times and numbers (µs on a
//! monotonic clock, always passed in): no sockets, threads or I/O here.
//!
//! How a channel wires it (one [`InputHealth`] per input, one [`Switch`] and
//! one [`TimelineRepair`] per channel):
//!
//! ```text
//! settings.validate()?;                              // SettingsError names the field
//! let mut health: Vec<InputHealth> = inputs.iter().map(|_| InputHealth::new(&settings)).collect();
//! let mut switch = Switch::new(&settings, slate.is_some());
//! let mut repair = TimelineRepair::new(LoopMode::Seamless);
//!
//! // every datagram of input i (live or not), at its arrival time:
//! health[i].feed(now_us, &datagram);
//! // every few ms (and after each datagram if cheap):
//! let h: Vec<Health> = health.iter().map(|x| x.health(now_us)).collect();
//! if let Some(ev) = switch.decide(now_us, &h) { emit(ev) }   // ev.to_string(): "primary down: sync lost: primary → backup 1"
//! // every datagram of the source on air (switch.live()), before the fan-out:
//! out.clear();
//! repair.process_datagram(now_us, switch.live(), &datagram, &mut out);
//! // `out` holds whole packets to send (0..n: packets may be held briefly
//! // after a switch, and Signalled mode may add one per PID): cut it into
//! // datagrams of at most 7 packets.
//! ```
//!
//! - [`settings`]: [`SwitchSettings`] with one `Default` and its ranges.
//! - [`health`]: [`InputHealth`] → [`Health`] / [`DownReason`] (no data, sync
//!   loss, no PCR, continuity burst).
//! - [`decide`]: [`Switch`] → [`Live`], [`SwitchEvent`] with its [`SwitchReason`].
//! - [`repair`]: [`TimelineRepair`], the output timeline across a switch, on
//!   the loop seam's [`Restamper`](crate::engine::restamp::Restamper).

pub mod decide;
#[doc(hidden)]
pub mod fuzz;
pub mod health;
pub mod repair;
pub mod settings;

pub use decide::{InputName, Live, Switch, SwitchEvent, SwitchReason};
pub use health::{DownReason, Health, InputHealth};
pub use repair::TimelineRepair;
pub use settings::{CcBurst, SettingsError, SwitchSettings};
