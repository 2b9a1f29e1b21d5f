//! `udp://` URIs in the ffmpeg/VLC convention:
//!
//! - input: `udp://HOST:PORT` or `udp://:PORT` (unicast, bound there),
//!   `udp://@GROUP:PORT?source=S&iface=ADDR` (multicast, any-source or
//!   source-specific, joined on the interface with that address);
//!   `repace=pcr`: datagrams scheduled by the stream's own PCRs instead of
//!   their arrival (`repace=arrival`, the default), removing the network's
//!   jitter;
//! - output: `udp://HOST:PORT` (unicast), `udp://GROUP:PORT?ttl=N&iface=ADDR&iptos=EF`
//!   (multicast), `delay=MS`: the constant delay behind the schedule at which
//!   datagrams depart; `pacing=spin` (default: sleep, then spin the last
//!   stretch), `sleep` (sleep only) or `txtime` (the kernel's SO_TXTIME).

use super::iface;
use crate::engine::config::{parse_iptos, parse_number, ConfigError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Default delay of a UDP output behind the datagrams' schedule.
pub const DEFAULT_UDP_DELAY_MS: u32 = 20;
/// Longest UDP output delay.
pub const MAX_UDP_DELAY_MS: u32 = 5000;

/// A UDP input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpInput {
    /// The address to bind (unicast) or the group to join (multicast);
    /// unspecified: all interfaces.
    pub addr: IpAddr,
    pub port: u16,
    /// Source-specific multicast: the only sender accepted.
    pub source: Option<Ipv4Addr>,
    /// The interface (by its address) to join the group on.
    pub iface: Option<Ipv4Addr>,
    /// How datagrams are scheduled: at arrival, or by their PCRs.
    pub repace: Repace,
}

/// How a UDP input's datagrams are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Repace {
    /// Stamped at arrival: the network's jitter is passed on.
    #[default]
    Arrival,
    /// Re-paced by the stream's own PCRs (a short hold, jitter removed).
    Pcr,
}

/// How a UDP output waits for each departure time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Departure {
    /// Sleep, then spin the last stretch on the monotonic clock.
    #[default]
    Spin,
    /// Sleep only (the timer's slack: typically 50–100 µs late).
    Sleep,
    /// Handed to the kernel early with SO_TXTIME (needs an `fq` or `etf`
    /// qdisc on the interface to be honoured).
    Txtime,
}

/// A UDP output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpOutput {
    pub addr: SocketAddr,
    pub ttl: Option<u32>,
    /// The interface (by its address) multicast leaves from.
    pub iface: Option<Ipv4Addr>,
    pub iptos: Option<u8>,
    /// Departure = schedule time + this.
    pub delay_ms: u32,
    /// How the departure time is waited for.
    pub pacing: Departure,
}

impl UdpInput {
    pub fn is_multicast(&self) -> bool {
        self.addr.is_multicast()
    }

    pub fn to_uri(&self) -> String {
        let mut q = Vec::new();
        if let Some(s) = self.source {
            q.push(format!("source={s}"));
        }
        if let Some(i) = self.iface {
            q.push(format!("iface={i}"));
        }
        if self.repace == Repace::Pcr {
            q.push("repace=pcr".to_string());
        }
        let host = if self.addr.is_unspecified() {
            String::new()
        } else {
            crate::engine::config::url_host(&self.addr.to_string())
        };
        let at = if self.is_multicast() { "@" } else { "" };
        with_query(format!("udp://{at}{host}:{}", self.port), &q)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.port == 0 {
            return Err(ConfigError::UdpNoPort(INPUT_FORMS));
        }
        if let Some(a) = self.iface {
            iface::check_present(a)?;
        }
        if self.source.is_some() && !self.is_multicast() {
            return Err(value_error(
                "source",
                "",
                "source-specific reception needs a multicast group: udp://@GROUP:PORT?source=S",
            ));
        }
        if self.is_multicast() && !self.addr.is_ipv4() {
            return Err(value_error(
                "host",
                &self.addr.to_string(),
                "IPv6 multicast is not supported yet",
            ));
        }
        Ok(())
    }
}

impl UdpOutput {
    pub fn to_uri(&self) -> String {
        let mut q = Vec::new();
        if let Some(t) = self.ttl {
            q.push(format!("ttl={t}"));
        }
        if let Some(i) = self.iface {
            q.push(format!("iface={i}"));
        }
        if let Some(t) = self.iptos {
            q.push(format!("iptos={t}"));
        }
        if self.delay_ms != DEFAULT_UDP_DELAY_MS {
            q.push(format!("delay={}", self.delay_ms));
        }
        match self.pacing {
            Departure::Spin => {}
            Departure::Sleep => q.push("pacing=sleep".to_string()),
            Departure::Txtime => q.push("pacing=txtime".to_string()),
        }
        with_query(format!("udp://{}", self.addr), &q)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.addr.port() == 0 {
            return Err(ConfigError::UdpNoPort(OUTPUT_FORMS));
        }
        if let Some(a) = self.iface {
            iface::check_present(a)?;
        }
        if self.addr.ip().is_unspecified() {
            return Err(value_error(
                "host",
                &self.addr.ip().to_string(),
                "a UDP output needs the receiver's address or a multicast group",
            ));
        }
        if let Some(t) = self.ttl.filter(|t| !(1..=255).contains(t)) {
            return Err(value_error("ttl", &t.to_string(), "use 1 to 255"));
        }
        if self.delay_ms > MAX_UDP_DELAY_MS {
            return Err(value_error(
                "delay",
                &self.delay_ms.to_string(),
                "use 0 to 5000 ms",
            ));
        }
        Ok(())
    }
}

/// `base?k=v&…`, or `base` alone when there are no pairs.
pub(crate) fn with_query(base: String, q: &[String]) -> String {
    if q.is_empty() {
        base
    } else {
        format!("{base}?{}", q.join("&"))
    }
}

pub(crate) fn value_error(key: &str, value: &str, why: &str) -> ConfigError {
    ConfigError::OptionValue {
        key: key.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    }
}

/// The keys of a UDP input URI (`udp://:PORT`, `udp://@GROUP:PORT`).
pub const UDP_INPUT_KEYS: &str = "source, iface (or localaddr), repace";
/// The keys of a UDP output URI (`udp://HOST:PORT`, `udp://GROUP:PORT`).
pub const UDP_OUTPUT_KEYS: &str = "ttl, iface (or localaddr), iptos, delay, pacing";

fn unknown(key: &str, known: &str) -> ConfigError {
    value_error(
        key,
        "",
        &format!("not an option of udp:// URIs (known: {known})"),
    )
}

/// A URI's `key=value` pairs, in order.
pub(crate) type Pairs = Vec<(String, String)>;

/// The `key=value` pairs of a query (after the `?`), in order.
pub(crate) fn query_pairs(query: &str) -> Pairs {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The forms shown when a UDP input's port is missing.
const INPUT_FORMS: &str = "udp://:PORT, udp://HOST:PORT or udp://@GROUP:PORT";
/// The forms shown when a UDP output's port is missing.
const OUTPUT_FORMS: &str = "udp://HOST:PORT or udp://GROUP:PORT";

/// `(host, port, query pairs)` of `udp://[@]host:port?…`; `forms`: the
/// forms to show when the port is missing.
fn split(uri: &str, forms: &'static str) -> Result<(String, u16, Pairs), ConfigError> {
    let rest = uri
        .strip_prefix("udp://")
        .ok_or_else(|| ConfigError::UriScheme(uri.to_string()))?;
    let bad = |why: &str| ConfigError::Uri {
        uri: uri.to_string(),
        why: why.to_string(),
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_start_matches('@').trim_end_matches('/');
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (h, p.strip_prefix(':').unwrap_or(""))
    } else {
        authority.rsplit_once(':').unwrap_or((authority, ""))
    };
    if port.is_empty() {
        return Err(ConfigError::UdpNoPort(forms));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
    Ok((host.to_string(), port, query_pairs(query)))
}

fn ip(key: &str, value: &str) -> Result<IpAddr, ConfigError> {
    value.parse().map_err(|_| {
        value_error(
            key,
            value,
            "give an IP address (names are not resolved here)",
        )
    })
}

fn ipv4(key: &str, value: &str) -> Result<Ipv4Addr, ConfigError> {
    value
        .parse()
        .map_err(|_| value_error(key, value, "give an IPv4 address"))
}

pub(crate) fn parse_udp_input(uri: &str) -> Result<UdpInput, ConfigError> {
    let (host, port, pairs) = split(uri, INPUT_FORMS)?;
    let addr = if host.is_empty() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        ip("host", &host)?
    };
    let mut input = UdpInput {
        addr,
        port,
        source: None,
        iface: None,
        repace: Repace::Arrival,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "source" | "sources" => input.source = Some(ipv4(&k, &v)?),
            "iface" | "localaddr" => input.iface = Some(iface::resolve(&v)?),
            "repace" => {
                input.repace = match v.as_str() {
                    "pcr" => Repace::Pcr,
                    "arrival" | "off" => Repace::Arrival,
                    _ => return Err(value_error(&k, &v, "use pcr or arrival")),
                }
            }
            _ => return Err(unknown(&k, UDP_INPUT_KEYS)),
        }
    }
    Ok(input)
}

pub(crate) fn parse_udp_output(uri: &str) -> Result<UdpOutput, ConfigError> {
    let (host, port, pairs) = split(uri, OUTPUT_FORMS)?;
    if host.is_empty() {
        return Err(value_error(
            "host",
            "",
            "a UDP output needs the receiver's address or a multicast group: udp://HOST:PORT",
        ));
    }
    let mut out = UdpOutput {
        addr: SocketAddr::new(ip("host", &host)?, port),
        ttl: None,
        iface: None,
        iptos: None,
        delay_ms: DEFAULT_UDP_DELAY_MS,
        pacing: Departure::Spin,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "ttl" => out.ttl = Some(parse_number(&k, &v)?),
            "iface" | "localaddr" => out.iface = Some(iface::resolve(&v)?),
            "iptos" | "tos" => out.iptos = Some(parse_iptos(&v)?),
            "delay" => out.delay_ms = parse_number(&k, &v)?,
            "pacing" => {
                out.pacing = match v.as_str() {
                    "spin" => Departure::Spin,
                    "sleep" => Departure::Sleep,
                    "txtime" => Departure::Txtime,
                    _ => return Err(value_error(&k, &v, "use spin, sleep or txtime")),
                }
            }
            _ => return Err(unknown(&k, UDP_OUTPUT_KEYS)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_unicast_any_source_and_source_specific() {
        let u = parse_udp_input("udp://:5000").unwrap();
        assert!(u.addr.is_unspecified() && !u.is_multicast());
        let m = parse_udp_input("udp://@239.1.1.1:5000?source=10.0.0.1&iface=10.0.0.2").unwrap();
        assert!(m.is_multicast());
        assert_eq!(m.source, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            m.to_uri(),
            "udp://@239.1.1.1:5000?source=10.0.0.1&iface=10.0.0.2"
        );
        assert!(parse_udp_input("udp://127.0.0.1:5000?source=10.0.0.1")
            .unwrap()
            .validate()
            .is_err());
        let e = parse_udp_input("udp://:5000?ttl=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ttl"), "{e}");
        let r = parse_udp_input("udp://:5000?repace=pcr").unwrap();
        assert_eq!(r.repace, Repace::Pcr);
        assert_eq!(r.to_uri(), "udp://:5000?repace=pcr");
        let e = parse_udp_input("udp://:5000?repace=pts")
            .unwrap_err()
            .to_string();
        assert!(e.contains("repace=pts"), "{e}");
    }

    #[test]
    fn outputs_with_ttl_interface_and_dscp() {
        let o = parse_udp_output("udp://239.1.1.1:5000?ttl=8&iface=127.0.0.1&iptos=AF41&delay=5")
            .unwrap();
        assert_eq!((o.ttl, o.iptos, o.delay_ms), (Some(8), Some(0x88), 5));
        o.validate().unwrap();
        assert!(parse_udp_output("udp://:5000").is_err());
        assert!(parse_udp_output("udp://1.2.3.4:5000?ttl=300")
            .unwrap()
            .validate()
            .is_err());
        let e = parse_udp_output("udp://1.2.3.4:5000?pkt_size=1316")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pkt_size"), "{e}");
        let s = parse_udp_output("udp://1.2.3.4:5000?pacing=sleep").unwrap();
        assert_eq!(s.pacing, Departure::Sleep);
        assert_eq!(s.to_uri(), "udp://1.2.3.4:5000?pacing=sleep");
        let e = parse_udp_output("udp://1.2.3.4:5000?pacing=fast")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pacing=fast"), "{e}");
    }
}
