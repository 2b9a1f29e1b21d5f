//! Media work on GStreamer (transport is libsrt's, in `engine`): the
//! confidence monitor that shows what goes out and comes in.

pub mod confidence;
pub mod testsignal;

pub use confidence::{
    AlarmWatch, ConfidenceMonitor, MonitorAlarm, MonitorSettings, MonitorSlot, MonitorStatus,
};
