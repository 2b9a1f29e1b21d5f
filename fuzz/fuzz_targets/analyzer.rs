//! Fuzzes the TS analyzer and the packet checker: any bytes, in any chunking,
//! as 188-byte packets or re-framed into 192-byte (M2TS) and 204-byte units,
//! must give a report and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| srt_streamer::ts::fuzz::analyze_any(data));
