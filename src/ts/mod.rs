//! Pure MPEG transport stream code: packets, PSI, continuity, analysis. No I/O here.

pub mod analyzer;
pub mod check;
pub mod codecs;
pub mod continuity;
pub mod packet;
pub mod pcr_check;
pub mod psi;
pub mod report;
pub mod scan;
mod summary;
pub mod tables;
pub mod timebase;

pub use packet::{PACKET_SIZE, SYNC_BYTE};
