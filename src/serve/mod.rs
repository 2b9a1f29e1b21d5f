//! `srt-streamer serve`: the HTTP face of the engine (metrics for now).

pub mod metrics;
