//! `SrtSocket`'s typed options: each checked against its range with an
//! error that says the range, then handed to libsrt.
#![deny(unsafe_code)]

use super::error::SrtError;
use super::ffi::{self, opt};
use super::socket::{call, SrtSocket};
use crate::engine::secret::Passphrase;
use serde::{Deserialize, Serialize};
use std::time::Duration;

type Result<T> = std::result::Result<T, SrtError>;

/// `SRT_KM_STATE`: where encryption stands on a connected socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KmState {
    /// No encryption.
    Unsecured,
    /// Keys being exchanged.
    Securing,
    /// Encrypted, keys exchanged, decrypting fine.
    Secured,
    /// The peer encrypts and this side has no passphrase.
    NoSecret,
    /// The peer encrypts with another passphrase.
    BadSecret,
    Unknown(i32),
}

fn invalid(option: &'static str, detail: impl Into<String>) -> SrtError {
    SrtError::InvalidOption {
        option,
        detail: detail.into(),
    }
}

fn in_range(option: &'static str, v: i64, lo: i64, hi: i64) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(invalid(option, format!("{v} is outside {lo}..={hi}")))
    }
}

fn millis(option: &'static str, d: Duration) -> Result<i32> {
    i32::try_from(d.as_millis()).map_err(|_| invalid(option, "too long"))
}

impl SrtSocket {
    fn set_i32(&self, name: &'static str, o: i32, v: i32) -> Result<()> {
        ffi::set_i32(self.id, o, v)
            .map_err(|e| invalid(name, format!("libsrt refused {v}: {}", e.text)))
    }

    fn set_i64(&self, name: &'static str, o: i32, v: i64) -> Result<()> {
        ffi::set_i64(self.id, o, v)
            .map_err(|e| invalid(name, format!("libsrt refused {v}: {}", e.text)))
    }

    fn set_bool(&self, name: &'static str, o: i32, v: bool) -> Result<()> {
        self.set_i32(name, o, i32::from(v))
    }

    fn set_str(&self, name: &'static str, o: i32, v: &str) -> Result<()> {
        ffi::set_bytes(self.id, o, v.as_bytes())
            .map_err(|e| invalid(name, format!("libsrt refused it: {}", e.text)))
    }

    /// Receiver buffering delay (both directions), ms. Default 120.
    pub fn set_latency_ms(&self, ms: u32) -> Result<()> {
        in_range("latency", i64::from(ms), 0, 60_000)?;
        self.set_i32("latency", opt::LATENCY, ms as i32)
    }

    /// Encryption passphrase: 10–79 characters (empty: no encryption).
    pub fn set_passphrase(&self, p: &Passphrase) -> Result<()> {
        if !p.is_empty() && !(10..=79).contains(&p.len()) {
            return Err(invalid("passphrase", "it must be 10 to 79 characters long"));
        }
        self.set_str("passphrase", opt::PASSPHRASE, p.expose())
    }

    /// AES key length in bytes: 16, 24 or 32 (0 = let the sender decide).
    pub fn set_pbkeylen(&self, bytes: u32) -> Result<()> {
        if ![0, 16, 24, 32].contains(&bytes) {
            return Err(invalid(
                "pbkeylen",
                "use 16 (AES-128), 24 (AES-192) or 32 (AES-256)",
            ));
        }
        self.set_i32("pbkeylen", opt::PBKEYLEN, bytes as i32)
    }

    /// Stream ID the caller sends to the listener (up to 512 characters).
    pub fn set_stream_id(&self, id: &str) -> Result<()> {
        if id.len() > 512 {
            return Err(invalid("streamid", "it must be at most 512 characters"));
        }
        self.set_str("streamid", opt::STREAMID, id)
    }

    /// The stream ID: on an accepted socket, the one the caller sent.
    pub fn stream_id(&self) -> Result<String> {
        call("read streamid", ffi::get_string(self.id, opt::STREAMID))
    }

    /// Payload bytes per packet: 1316 (7 TS packets) by default, at most 1456.
    pub fn set_payload_size(&self, bytes: u32) -> Result<()> {
        in_range("payloadsize", i64::from(bytes), 1, 1456)?;
        self.set_i32("payloadsize", opt::PAYLOADSIZE, bytes as i32)
    }

    /// Bandwidth cap, bytes/s: -1 = 1 Gbit/s (default), 0 = inputbw × (1 + oheadbw %).
    pub fn set_maxbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("maxbw", bytes_per_sec, -1, i64::MAX)?;
        self.set_i64("maxbw", opt::MAXBW, bytes_per_sec)
    }

    /// Input rate, bytes/s (with maxbw = 0); 0 = libsrt measures it.
    pub fn set_inputbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("inputbw", bytes_per_sec, 0, i64::MAX)?;
        self.set_i64("inputbw", opt::INPUTBW, bytes_per_sec)
    }

    /// Floor of the measured input rate, bytes/s (with inputbw = 0).
    pub fn set_mininputbw(&self, bytes_per_sec: i64) -> Result<()> {
        in_range("mininputbw", bytes_per_sec, 0, i64::MAX)?;
        self.set_i64("mininputbw", opt::MININPUTBW, bytes_per_sec)
    }

    /// Recovery overhead over the input rate, 5–100 % (with maxbw = 0).
    pub fn set_oheadbw(&self, percent: u32) -> Result<()> {
        in_range("oheadbw", i64::from(percent), 5, 100)?;
        self.set_i32("oheadbw", opt::OHEADBW, percent as i32)
    }

    /// Flow-control window, packets (default 25600). Set before rcvbuf.
    pub fn set_fc(&self, packets: u32) -> Result<()> {
        in_range("fc", i64::from(packets), 32, i64::from(i32::MAX))?;
        self.set_i32("fc", opt::FC, packets as i32)
    }

    /// Send buffer, bytes.
    pub fn set_sndbuf(&self, bytes: u32) -> Result<()> {
        in_range("sndbuf", i64::from(bytes), 1, i64::from(i32::MAX))?;
        self.set_i32("sndbuf", opt::SNDBUF, bytes as i32)
    }

    /// Receive buffer, bytes (capped by fc × packet size).
    pub fn set_rcvbuf(&self, bytes: u32) -> Result<()> {
        in_range("rcvbuf", i64::from(bytes), 1, i64::from(i32::MAX))?;
        self.set_i32("rcvbuf", opt::RCVBUF, bytes as i32)
    }

    /// IP TOS byte (DSCP << 2), e.g. 0xB8 = EF, 0x88 = AF41.
    pub fn set_iptos(&self, tos: u8) -> Result<()> {
        self.set_i32("iptos", opt::IPTOS, i32::from(tos))
    }

    /// For a `::` listener: false also serves IPv4 callers (set it explicitly).
    pub fn set_ipv6only(&self, only: bool) -> Result<()> {
        self.set_bool("ipv6only", opt::IPV6ONLY, only)
    }

    /// Drop packets too late to play (live default: on).
    pub fn set_tlpktdrop(&self, on: bool) -> Result<()> {
        self.set_bool("tlpktdrop", opt::TLPKTDROP, on)
    }

    /// Periodic NAK reports (live default: on).
    pub fn set_nakreport(&self, on: bool) -> Result<()> {
        self.set_bool("nakreport", opt::NAKREPORT, on)
    }

    /// Packet filter, e.g. `fec,cols:10,rows:5`.
    pub fn set_packet_filter(&self, spec: &str) -> Result<()> {
        self.set_str("packetfilter", opt::PACKETFILTER, spec)
    }

    /// How long `connect` waits for an answer (default 3 s; ×10 in rendezvous).
    pub fn set_conntimeo(&self, d: Duration) -> Result<()> {
        let ms = millis("conntimeo", d)?;
        self.set_i32("conntimeo", opt::CONNTIMEO, ms)
    }

    /// Silence from the peer after which the connection is broken (default 5 s).
    pub fn set_peeridletimeo(&self, d: Duration) -> Result<()> {
        let ms = millis("peeridletimeo", d)?;
        self.set_i32("peeridletimeo", opt::PEERIDLETIMEO, ms)
    }

    /// Blocking send (default true).
    pub fn set_sndsyn(&self, on: bool) -> Result<()> {
        self.set_bool("sndsyn", opt::SNDSYN, on)
    }

    /// Blocking receive/accept (default true).
    pub fn set_rcvsyn(&self, on: bool) -> Result<()> {
        self.set_bool("rcvsyn", opt::RCVSYN, on)
    }

    /// Longest blocking `send` (None: no limit).
    pub fn set_sndtimeo(&self, d: Option<Duration>) -> Result<()> {
        let ms = d.map_or(Ok(-1), |d| millis("sndtimeo", d))?;
        self.set_i32("sndtimeo", opt::SNDTIMEO, ms)
    }

    /// Longest blocking `recv` (None: no limit); then `recv` gives `TimedOut`.
    pub fn set_rcvtimeo(&self, d: Option<Duration>) -> Result<()> {
        let ms = d.map_or(Ok(-1), |d| millis("rcvtimeo", d))?;
        self.set_i32("rcvtimeo", opt::RCVTIMEO, ms)
    }

    /// Live mode (TSBPD, message API, live congestion control). Set by `new`.
    pub fn set_transtype_live(&self) -> Result<()> {
        self.set_i32("transtype", opt::TRANSTYPE, 0)
    }

    pub fn set_messageapi(&self, on: bool) -> Result<()> {
        self.set_bool("messageapi", opt::MESSAGEAPI, on)
    }

    /// Latency this side applies to what it receives, ms (after the handshake:
    /// the negotiated value).
    pub fn rcv_latency_ms(&self) -> Result<i32> {
        call("read rcvlatency", ffi::get_i32(self.id, opt::RCVLATENCY))
    }

    /// Latency the peer applies to what this side sends, ms (negotiated).
    pub fn peer_latency_ms(&self) -> Result<i32> {
        call("read peerlatency", ffi::get_i32(self.id, opt::PEERLATENCY))
    }

    /// Encryption state of a connected socket.
    pub fn km_state(&self) -> Result<KmState> {
        let v = call("read kmstate", ffi::get_i32(self.id, opt::KMSTATE))?;
        Ok(match v {
            0 => KmState::Unsecured,
            1 => KmState::Securing,
            2 => KmState::Secured,
            3 => KmState::NoSecret,
            4 => KmState::BadSecret,
            v => KmState::Unknown(v),
        })
    }
}
