//! Every local port a line-up binds — players' and receivers' SRT ports,
//! each channel's SRT listeners and rendezvous, its UDP inputs (its file
//! and test-signal inputs bind nothing) — and
//! whether two of them may run side by side. The manager checks a whole
//! line-up (streams and channels) with these before anything starts.

use super::channel::{ChannelConfig, InputConfig, OutputConfig};
use super::config::StreamConfig;
use super::preflight::{self, bound_port, PortConflict};
use std::net::{IpAddr, Ipv4Addr};

/// What a file or a command starts at once: players and channels, checked
/// as one set ([`super::StreamManager::check_all`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lineup {
    pub streams: Vec<StreamConfig>,
    pub channels: Vec<ChannelConfig>,
}

impl Lineup {
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty() && self.channels.is_empty()
    }
}

/// Which channel a port belongs to: a channel's publisher and its own
/// readers may serve one stream ID on one port.
pub(crate) type ChannelTag = (bool, u64);

#[derive(Debug, Clone)]
enum Kind {
    /// `receives`: data comes in through it (a channel input, a receiver).
    Srt {
        cfg: Box<StreamConfig>,
        receives: bool,
    },
    Udp {
        addr: IpAddr,
    },
}

/// One local port something binds, and who binds it (in words).
#[derive(Debug, Clone)]
pub(crate) struct Bind {
    pub(crate) owner: String,
    pub(crate) port: u16,
    kind: Kind,
    channel: Option<ChannelTag>,
}

fn srt_host(cfg: &StreamConfig) -> &str {
    match cfg.mode {
        super::config::Mode::Listener => &cfg.host,
        _ => &cfg.local_address,
    }
}

fn srt_bind(
    owner: String,
    cfg: &StreamConfig,
    receives: bool,
    tag: Option<ChannelTag>,
) -> Option<Bind> {
    Some(Bind {
        owner,
        port: bound_port(cfg)?,
        kind: Kind::Srt {
            cfg: Box::new(cfg.clone()),
            receives,
        },
        channel: tag,
    })
}

/// The port a player (`receives` false) or receiver binds, if any.
pub(crate) fn stream_bind(cfg: &StreamConfig, receives: bool) -> Option<Bind> {
    srt_bind(format!("'{}'", cfg.display_name()), cfg, receives, None)
}

/// Every port a channel binds, named "input 1 of channel 'x'".
pub(crate) fn channel_binds(cfg: &ChannelConfig, tag: ChannelTag) -> Vec<Bind> {
    let name = cfg.display_name();
    let mut out = Vec::new();
    for (i, input) in cfg.inputs.iter().enumerate() {
        let owner = format!("input {} of channel '{name}'", i + 1);
        match input {
            InputConfig::Srt(c) => out.extend(srt_bind(owner, c, true, Some(tag))),
            InputConfig::Udp(u) => out.push(Bind {
                owner,
                port: u.port,
                kind: Kind::Udp { addr: u.addr },
                channel: Some(tag),
            }),
            // A file or the test signal: read or generated, nothing bound.
            InputConfig::File { .. } | InputConfig::TestSignal(_) => {}
        }
    }
    for (i, output) in cfg.outputs.iter().enumerate() {
        if let OutputConfig::Srt(c) = output.base() {
            let owner = format!("output {} of channel '{name}'", i + 1);
            out.extend(srt_bind(owner, c, false, Some(tag)));
        }
    }
    out
}

/// The address a bind holds; unspecified (all interfaces) when none is given.
fn address(b: &Bind) -> Option<IpAddr> {
    match &b.kind {
        Kind::Udp { addr } => Some(*addr),
        Kind::Srt { cfg, .. } => {
            let host = srt_host(cfg);
            if host.is_empty() {
                Some(Ipv4Addr::UNSPECIFIED.into())
            } else {
                host.parse().ok()
            }
        }
    }
}

fn overlap(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || a.is_unspecified() || b.is_unspecified(),
        // A host name: taken as overlapping (it may be any address).
        _ => true,
    }
}

/// May `a` and `b` run side by side? `Ok` when they bind different ports
/// (or addresses), or share an SRT port by stream ID as its hub allows.
pub(crate) fn may_share(a: &Bind, b: &Bind) -> Result<(), PortConflict> {
    if a.port != b.port || !overlap(address(a), address(b)) {
        return Ok(());
    }
    match (&a.kind, &b.kind) {
        (Kind::Udp { .. }, Kind::Udp { .. }) => Err(PortConflict::UdpTwice),
        (Kind::Udp { .. }, _) | (_, Kind::Udp { .. }) => Err(PortConflict::UdpAndSrt),
        (
            Kind::Srt {
                cfg: ca,
                receives: ra,
            },
            Kind::Srt {
                cfg: cb,
                receives: rb,
            },
        ) => match preflight::may_share(ca, cb) {
            // One channel's publisher (m=publish) and its readers.
            Err(PortConflict::SameStreamId(_))
                if ra != rb
                    && a.channel.is_some()
                    && a.channel == b.channel
                    && ca.latency_ms == cb.latency_ms
                    && ca.packet_filter == cb.packet_filter =>
            {
                Ok(())
            }
            other => other,
        },
    }
}

/// The first two of `binds` that cannot run side by side (the later one
/// first), and why.
pub(crate) fn first_clash(binds: &[Bind]) -> Option<(&Bind, &Bind, PortConflict)> {
    for (i, b) in binds.iter().enumerate() {
        for a in &binds[..i] {
            if let Err(why) = may_share(b, a) {
                return Some((b, a, why));
            }
        }
    }
    None
}

/// True when another program holds the port `b` binds (tried by binding
/// it for a moment; the channel or stream binds it for real when it starts).
pub(crate) fn busy_elsewhere(b: &Bind) -> bool {
    match &b.kind {
        Kind::Srt { cfg, .. } => preflight::port_busy_elsewhere(cfg).is_some(),
        Kind::Udp { addr } => std::net::UdpSocket::bind((*addr, b.port)).is_err(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(inputs: &[&str], outputs: &[&str]) -> ChannelConfig {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ChannelConfig::from_uris("c", &s(inputs), &s(outputs)).expect("valid URIs")
    }

    #[test]
    fn a_channels_publisher_and_its_readers_share_a_port() {
        let c = channel(
            &["srt://:9000?streamid=%23!::r=cam,m=publish"],
            &["srt://:9000?streamid=cam", "udp://127.0.0.1:5000"],
        );
        assert!(first_clash(&channel_binds(&c, (false, 0))).is_none());
        // The same pair in two channels: the second publisher is refused.
        let mut both = channel_binds(&c, (false, 0));
        both.extend(channel_binds(&c, (false, 1)));
        assert!(matches!(
            first_clash(&both),
            Some((_, _, PortConflict::SameStreamId(_)))
        ));
    }

    #[test]
    fn listeners_and_udp_inputs_on_one_port_are_refused() {
        let a = channel(&["udp://:5000"], &["srt://:9000"]);
        let b = channel(&["udp://:5000"], &["srt://:9000"]);
        let mut binds = channel_binds(&a, (false, 0));
        binds.extend(channel_binds(&b, (false, 1)));
        let (later, earlier, why) = first_clash(&binds).expect("a clash");
        assert_eq!(why, PortConflict::UdpTwice);
        assert_eq!(later.owner, "input 1 of channel 'c'");
        assert_eq!(earlier.port, 5000);
        let c = channel(&["udp://:9000"], &["srt://:9000"]);
        assert!(matches!(
            first_clash(&channel_binds(&c, (false, 0))),
            Some((_, _, PortConflict::UdpAndSrt))
        ));
        // Two multicast groups on one port are two addresses.
        let m = channel(
            &["udp://@239.1.1.1:5000", "udp://@239.1.1.2:5000"],
            &["udp://127.0.0.1:1"],
        );
        assert!(first_clash(&channel_binds(&m, (false, 0))).is_none());
    }
}
