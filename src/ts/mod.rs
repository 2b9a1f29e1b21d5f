//! Pure MPEG transport stream code: packets, PSI, continuity. No I/O here.

pub mod analyzer;
pub mod check;
pub mod codecs;
pub mod continuity;
pub mod packet;
pub mod psi;
pub mod report;
pub mod scan;

pub use packet::{PACKET_SIZE, SYNC_BYTE};
