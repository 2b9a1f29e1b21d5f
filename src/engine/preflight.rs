//! Checks before anything starts: one stream's settings and source, and a
//! whole set of streams' ports — among themselves, against the streams
//! already running, and against other programs on this machine. The CLI,
//! the `--streams` file and the app all come through here (via the
//! [`super::StreamManager`]); nobody else checks.

use super::config::{Mode, StreamConfig};
use super::link::hub::parse_stream_id;
use super::stream::StartError;
use crate::media::testsignal::{is_test_signal, TestSignal};

/// Why two streams cannot share their UDP port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortConflict {
    #[error("only listener streams can share a port")]
    NotListeners,
    #[error("streams sharing a port each need their own stream ID")]
    NoStreamId,
    #[error(
        "stream ID '{0}' is already served on this port; stream IDs on one port must be unique"
    )]
    SameStreamId(String),
    #[error("a UDP input already binds this address and port: give each UDP input its own port")]
    UdpTwice,
    #[error("a UDP input and an SRT endpoint cannot share a port: give each its own port")]
    UdpAndSrt,
    #[error("streams sharing a port need the same latency and FEC (libsrt takes them from the listening socket): {0}")]
    Settings(String),
}

/// The local UDP port a stream binds, if it binds a known one.
pub(crate) fn bound_port(cfg: &StreamConfig) -> Option<u16> {
    match cfg.mode {
        Mode::Listener => Some(cfg.port),
        Mode::Rendezvous => Some(if cfg.local_port == 0 {
            cfg.port
        } else {
            cfg.local_port
        }),
        Mode::Caller => (cfg.local_port != 0).then_some(cfg.local_port),
    }
}

/// May `a` and `b` run side by side? `Ok` when they bind different ports,
/// or share one by stream ID as the port's hub allows.
pub(crate) fn may_share(a: &StreamConfig, b: &StreamConfig) -> Result<(), PortConflict> {
    if bound_port(a).is_none() || bound_port(a) != bound_port(b) {
        return Ok(());
    }
    if a.mode != Mode::Listener || b.mode != Mode::Listener {
        return Err(PortConflict::NotListeners);
    }
    if a.stream_id.is_empty() || b.stream_id.is_empty() {
        return Err(PortConflict::NoStreamId);
    }
    let resource = parse_stream_id(&a.stream_id).resource;
    if resource == parse_stream_id(&b.stream_id).resource {
        return Err(PortConflict::SameStreamId(resource));
    }
    if a.latency_ms != b.latency_ms || a.packet_filter != b.packet_filter {
        return Err(PortConflict::Settings(format!(
            "latency {} and {} ms, FEC '{}' and '{}'",
            a.latency_ms, b.latency_ms, a.packet_filter, b.packet_filter
        )));
    }
    Ok(())
}

/// The stream's settings, and its file (probed) or test signal (parsed).
pub(crate) fn check_stream(cfg: &StreamConfig) -> Result<(), StartError> {
    cfg.validate()?;
    let text = cfg.file.to_string_lossy();
    if is_test_signal(&text) {
        TestSignal::parse(&text).map_err(StartError::Transport)?;
    } else {
        super::source::probe_file(&cfg.file, cfg.probe_request())?;
    }
    Ok(())
}

/// True when another program holds the UDP port `cfg` binds (tried by
/// binding it for a moment; the stream binds it for real when it starts).
pub(crate) fn port_busy_elsewhere(cfg: &StreamConfig) -> Option<u16> {
    let port = bound_port(cfg)?;
    let host = match cfg.mode {
        Mode::Listener => cfg.host.as_str(),
        _ => cfg.local_address.as_str(),
    };
    let ip: std::net::IpAddr = if host.is_empty() {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else {
        host.parse().ok()?
    };
    std::net::UdpSocket::bind((ip, port))
        .is_err()
        .then_some(port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_uri;

    fn cfg(uri: &str) -> StreamConfig {
        parse_uri(uri, "a.ts").expect("a valid URI")
    }

    #[test]
    fn sharing_follows_the_hubs_rules() {
        let news = cfg("srt://:9000?streamid=news");
        assert_eq!(may_share(&news, &cfg("srt://:9000?streamid=sport")), Ok(()));
        assert_eq!(may_share(&news, &cfg("srt://:9001")), Ok(()));
        assert_eq!(
            may_share(&news, &cfg("srt://:9000")),
            Err(PortConflict::NoStreamId)
        );
        assert_eq!(
            may_share(&news, &cfg("srt://:9000?streamid=%23!::r=news,m=request")),
            Err(PortConflict::SameStreamId("news".into()))
        );
        assert!(matches!(
            may_share(&news, &cfg("srt://:9000?streamid=x&latency=300")),
            Err(PortConflict::Settings(_))
        ));
        assert_eq!(
            may_share(&news, &cfg("srt://h:9000?mode=rendezvous&streamid=y")),
            Err(PortConflict::NotListeners)
        );
        // A caller binds no known port.
        assert_eq!(may_share(&cfg("srt://h:9000"), &news), Ok(()));
    }
}
