//! The HTTP side of a remote host, run on its worker thread only: the
//! channel list and the actions, through `serve`'s `/api/v1`, with a
//! connect timeout of 2 s and a read timeout of 5 s. A refusal is given
//! back in the engine's words (the `{"error": …}` body).

use super::hosts::{HostEntry, HostState, RemoteChannel, Token};
use crate::engine::channel::ChannelSnapshot;
use crate::engine::StreamId;
use serde_json::Value;
use std::time::Duration;
use tokio_rustls::rustls;
use ureq::unversioned::transport::Connector;

/// An action on a remote host, run by its worker.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCommand {
    Start(StreamId),
    Stop(StreamId),
    Restart(StreamId),
    Remove(StreamId),
    /// The output's URI.
    AddOutput(StreamId, String),
    /// The output's index (from 0).
    RemoveOutput(StreamId, usize),
    /// A new channel: its `[[channel]]` table as JSON.
    Create(Value),
    /// Read the channel list now (an event came from the host).
    Refresh,
    /// Fetch a channel's table (passphrases masked) to edit it.
    Fetch(StreamId),
    /// A channel's new settings: its whole table as JSON (`PUT`; a
    /// masked passphrase keeps the stored one).
    Replace(StreamId, Value),
}

/// The worker's answer to a [`HostCommand`], for the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum HostReply {
    Done(String),
    Failed(String),
    Created {
        name: String,
        id: StreamId,
    },
    CreateRefused(String),
    OutputAdded {
        id: StreamId,
        number: u64,
    },
    OutputRefused {
        id: StreamId,
        message: String,
    },
    /// An alarm the host's event stream told: `#id name: text`.
    Alarm(String),
    /// A channel's table, to edit.
    Fetched {
        id: StreamId,
        table: Value,
    },
    Replaced {
        id: StreamId,
        name: String,
    },
    ReplaceRefused(String),
}

/// Why a call did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("token refused")]
    TokenRefused,
    #[error("certificate not trusted: {0}")]
    Untrusted(String),
    /// Another status, with the engine's words.
    #[error("{message}")]
    Answered { status: u16, message: String },
    #[error("unexpected answer: {0}")]
    Garbled(String),
}

impl HostError {
    /// The host's state after this error; `retry_secs` until the next try.
    pub fn state(&self, retry_secs: u64) -> HostState {
        match self {
            Self::BadUrl(why) => HostState::BadUrl(why.clone()),
            Self::Unreachable(reason) => HostState::Unreachable {
                reason: reason.clone(),
                retry_secs,
            },
            Self::TokenRefused => HostState::TokenRefused,
            Self::Untrusted(why) => HostState::Untrusted(why.clone()),
            Self::Answered { status, message } => HostState::Answered {
                status: *status,
                message: message.clone(),
            },
            Self::Garbled(why) => HostState::Answered {
                status: 200,
                message: why.clone(),
            },
        }
    }
}

/// Checks a host URL as typed: `http(s)://host:port`, nothing after.
pub fn check_url(url: &str) -> Result<String, HostError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| HostError::BadUrl("give http://host:port or https://host:port".into()))?;
    if rest.is_empty() || rest.contains('/') || rest.contains(char::is_whitespace) {
        return Err(HostError::BadUrl(format!(
            "'{url}' is not http(s)://host:port"
        )));
    }
    Ok(url.to_string())
}

/// The TLS step for a host given a certificate file or fingerprint
/// (None: the public authorities, as any HTTPS client).
fn trusting(entry: &HostEntry) -> Result<Option<super::hosts_tls::TrustConnector>, String> {
    use super::hosts_tls::{Trust, TrustConnector};
    let pin = entry
        .cert_sha256
        .as_deref()
        .filter(|p| !p.trim().is_empty());
    let file = entry
        .cert_file
        .as_deref()
        .filter(|f| !f.as_os_str().is_empty());
    if pin.is_none() && file.is_none() {
        return Ok(None);
    }
    let trust = Trust::new(file, pin).map_err(|e| e.to_string())?;
    TrustConnector::new(trust)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A host's HTTP client (blocking: used on its worker thread only).
pub(crate) struct Client {
    agent: ureq::Agent,
    base: Result<String, String>,
    token: Token,
    /// What was given to trust the host's certificate, unreadable.
    trust: Option<String>,
}

/// What a failed call was, in words (never with the request's headers).
fn transport(e: ureq::Error) -> HostError {
    use std::io::ErrorKind;
    let reason = match e {
        ureq::Error::BadUri(why) => return HostError::BadUrl(why),
        ureq::Error::Rustls(tls) => return HostError::Untrusted(tls.to_string()),
        ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
            return HostError::Untrusted(io.to_string())
        }
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_string(),
            ErrorKind::TimedOut | ErrorKind::WouldBlock => "no answer (timed out)".to_string(),
            ErrorKind::ConnectionReset => "connection reset".to_string(),
            _ => io.to_string(),
        },
        ureq::Error::Timeout(_) => "no answer (timed out)".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        other => other.to_string(),
    };
    HostError::Unreachable(reason)
}

impl Client {
    pub(crate) fn new(entry: &HostEntry) -> Self {
        Self::with_body_timeout(entry, Some(Duration::from_secs(5)))
    }

    /// For the endless `GET /api/v1/events`: no limit on reading its body
    /// (the host sends a keep-alive every 15 s).
    pub(crate) fn streaming(entry: &HostEntry) -> Self {
        Self::with_body_timeout(entry, None)
    }

    fn with_body_timeout(entry: &HostEntry, body: Option<Duration>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_recv_response(Some(Duration::from_secs(5)))
            .timeout_recv_body(body)
            .build();
        let (agent, trust) = match trusting(entry) {
            Ok(None) => (config.into(), None),
            Ok(Some(tls)) => {
                let connector = ureq::unversioned::transport::TcpConnector::default().chain(tls);
                let resolver = ureq::unversioned::resolver::DefaultResolver::default();
                (ureq::Agent::with_parts(config, connector, resolver), None)
            }
            Err(why) => (config.into(), Some(why)),
        };
        Self {
            agent,
            base: check_url(&entry.url).map_err(|e| e.to_string()),
            token: entry.token.clone(),
            trust,
        }
    }

    /// The URL of `/api/v1PATH`, or why the host cannot be called.
    fn url(&self, path: &str) -> Result<String, HostError> {
        let base = self
            .base
            .as_ref()
            .map_err(|e| HostError::BadUrl(e.trim_start_matches("bad URL: ").into()))?;
        if let Some(why) = &self.trust {
            return Err(HostError::Untrusted(why.clone()));
        }
        Ok(format!("{base}/api/v1{path}"))
    }

    /// Follows `GET /api/v1/events` (server-sent events): `on_open` once
    /// it answers, then `on_line` with each event's JSON text (`None` for
    /// a keep-alive or another line) until it returns false or the stream
    /// ends.
    pub(crate) fn follow_events(
        &self,
        on_open: impl FnOnce(),
        mut on_line: impl FnMut(Option<&str>) -> bool,
    ) -> Result<(), HostError> {
        use std::io::BufRead;
        let sent = (self.agent.get(self.url("/events")?))
            .header("Authorization", &self.token.bearer())
            .header("Accept", "text/event-stream")
            .call();
        let resp = sent.map_err(transport)?;
        match resp.status().as_u16() {
            200..=299 => {}
            401 => return Err(HostError::TokenRefused),
            status => {
                let message = format!("HTTP {status}");
                return Err(HostError::Answered { status, message });
            }
        }
        on_open();
        let reader = std::io::BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let line = line.map_err(|e| HostError::Unreachable(e.to_string()))?;
            if !on_line(line.strip_prefix("data:").map(str::trim)) {
                break;
            }
        }
        Ok(())
    }

    /// `METHOD /api/v1PATH` (with `body` as JSON): the answer's JSON.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, HostError> {
        let url = self.url(path)?;
        let auth = self.token.bearer();
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            ("PUT", b) => self
                .agent
                .put(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(b.map(Value::to_string).unwrap_or_default()),
            (_, b) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(b.map(Value::to_string).unwrap_or_default()),
        };
        let mut resp = sent.map_err(transport)?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(transport)?;
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(json),
            401 => Err(HostError::TokenRefused),
            _ => Err(HostError::Answered {
                status,
                message: json["error"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("HTTP {status}")),
            }),
        }
    }

    /// `GET /channels`: every channel's id and live status.
    pub(crate) fn list(&self) -> Result<Vec<RemoteChannel>, HostError> {
        let v = self.call("GET", "/channels", None)?;
        let list = v
            .as_array()
            .ok_or_else(|| HostError::Garbled("the channel list is not a list".into()))?;
        list.iter()
            .map(|c| {
                let id = c["id"]
                    .as_u64()
                    .ok_or_else(|| HostError::Garbled("a channel without id".into()))?;
                let snap: ChannelSnapshot = serde_json::from_value(c["status"].clone())
                    .map_err(|e| HostError::Garbled(format!("channel {id}: {e}")))?;
                Ok(RemoteChannel { id, snap })
            })
            .collect()
    }

    /// `PUT /api/v1PATH` with `body`.
    fn put(&self, path: &str, body: &Value) -> Result<Value, HostError> {
        self.call("PUT", path, Some(body))
    }

    /// A channel's event log and its analysis report (None without an
    /// `analyze:` output, or before its first report).
    pub(crate) fn details(&self, id: StreamId) -> Result<super::hosts::RemoteDetails, HostError> {
        let v = self.call("GET", &format!("/channels/{id}/events"), None)?;
        let events = serde_json::from_value(v["events"].clone())
            .map_err(|e| HostError::Garbled(format!("channel {id}'s events: {e}")))?;
        let report = match self.call("GET", &format!("/channels/{id}/report"), None) {
            Ok(v) => Some((v["output"].as_u64().unwrap_or(0), v["report"].clone())),
            Err(HostError::Answered { status: 404, .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(super::hosts::RemoteDetails { id, events, report })
    }

    /// Runs `cmd`; the answer in words.
    pub(crate) fn run(&self, cmd: HostCommand) -> HostReply {
        let simple = |method: &str, path: String, id: StreamId, what: String| match self
            .call(method, &path, None)
        {
            Ok(_) => HostReply::Done(format!("#{id}: {what}")),
            Err(e) => HostReply::Failed(format!("#{id}: not {what}: {e}")),
        };
        let at = |id: StreamId, verb: &str| format!("/channels/{id}/{verb}");
        match cmd {
            HostCommand::Start(id) => simple("POST", at(id, "start"), id, "started".into()),
            HostCommand::Stop(id) => simple("POST", at(id, "stop"), id, "stopped".into()),
            HostCommand::Restart(id) => simple("POST", at(id, "restart"), id, "restarted".into()),
            HostCommand::Remove(id) => {
                simple("DELETE", format!("/channels/{id}"), id, "removed".into())
            }
            HostCommand::RemoveOutput(id, i) => simple(
                "DELETE",
                format!("/channels/{id}/outputs/{}", i + 1),
                id,
                format!("output {} removed", i + 1),
            ),
            HostCommand::AddOutput(id, uri) => {
                let body = serde_json::json!({ "uri": uri });
                match self.call("POST", &format!("/channels/{id}/outputs"), Some(&body)) {
                    Ok(v) => HostReply::OutputAdded {
                        id,
                        number: v["added_output"].as_u64().unwrap_or(0),
                    },
                    Err(e) => HostReply::OutputRefused {
                        id,
                        message: e.to_string(),
                    },
                }
            }
            HostCommand::Refresh => HostReply::Done(String::new()),
            HostCommand::Fetch(id) => match self.call("GET", &format!("/channels/{id}"), None) {
                Ok(table) => HostReply::Fetched { id, table },
                Err(e) => HostReply::Failed(format!("#{id}: cannot read its settings: {e}")),
            },
            HostCommand::Replace(id, table) => match self.put(&format!("/channels/{id}"), &table) {
                Ok(v) => HostReply::Replaced {
                    id,
                    name: v["name"].as_str().unwrap_or("").to_string(),
                },
                Err(e) => HostReply::ReplaceRefused(e.to_string()),
            },
            HostCommand::Create(table) => match self.call("POST", "/channels", Some(&table)) {
                Ok(v) => HostReply::Created {
                    name: v["name"].as_str().unwrap_or("").to_string(),
                    id: v["id"].as_u64().unwrap_or(0),
                },
                Err(e) => HostReply::CreateRefused(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_url_is_scheme_host_and_port() {
        assert_eq!(check_url("http://rack:8080/").unwrap(), "http://rack:8080");
        assert!(check_url("https://10.0.0.2:8443").is_ok());
        for bad in [
            "rack:8080",
            "ftp://rack",
            "http://",
            "http://rack/api",
            "http://a b",
        ] {
            assert!(matches!(check_url(bad), Err(HostError::BadUrl(_))), "{bad}");
        }
    }
}
