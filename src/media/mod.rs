//! Media work on GStreamer (transport is libsrt's, in `engine`): the
//! confidence monitor that shows what goes out and comes in (`confidence`,
//! what it publishes and judges in `status`), and the test-signal source.

pub mod confidence;
pub mod status;
pub mod testsignal;
pub mod transcode;

pub use confidence::{ConfidenceMonitor, MonitorSettings, MonitorSlot};
pub use status::{AlarmWatch, AudioLevel, Frame, MonitorAlarm, MonitorStatus, SILENCE_DB};
