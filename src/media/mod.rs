//! Media work on GStreamer (transport is libsrt's, in `engine`): the
//! confidence monitor that shows what goes out and comes in (`confidence`,
//! what it publishes and judges in `status`), the test-signal source, the
//! RTMP publisher (`rtmp`) and the transcoder (`transcode`).

pub mod confidence;
pub mod rtmp;
pub mod status;
pub mod testsignal;
pub mod transcode;

pub use confidence::{ConfidenceMonitor, MonitorSettings, MonitorSlot};
pub use status::{AlarmWatch, AudioLevel, Frame, MonitorAlarm, MonitorStatus, SILENCE_DB};

/// The caps of the TS bytes our appsrc elements take: 188-byte packets.
pub(crate) fn ts_caps() -> gst::Caps {
    gst::Caps::builder("video/mpegts")
        .field("systemstream", true)
        .field("packetsize", 188i32)
        .build()
}
