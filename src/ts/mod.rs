//! Pure MPEG transport stream code: packets, PSI, continuity, analysis. No I/O here.

pub mod analyzer;
pub mod check;
pub mod codecs;
pub mod continuity;
pub mod framing;
#[doc(hidden)]
pub mod fuzz;
mod gaps;
pub mod packet;
pub mod pcr_check;
pub mod pcr_track;
pub mod psi;
pub mod report;
pub mod scan;
mod summary;
pub mod tables;
pub mod timebase;
pub mod timestamps;

pub use packet::{PACKET_SIZE, SYNC_BYTE};
