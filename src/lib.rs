//! SRT Streamer: play MPEG transport streams over SRT, paced by their PCR
//! timeline and looped seamlessly. The library holds everything; the binary's
//! CLI (and later the GUI) are thin faces over [`engine::StreamManager`].

pub mod child_env;
pub mod cli;
pub mod engine;
pub mod media;
pub mod nettest;
pub mod serve;
pub mod ts;
pub mod ui;
