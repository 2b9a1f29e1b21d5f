//! Fuzzes failover: any bytes as datagrams of two inputs at any times,
//! through input health, the switch decision and the timeline repair in every
//! mode. Nothing may panic, and the repair sends only whole TS packets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| srt_streamer::engine::switch::fuzz::switch_any(data));
