//! The public iperf3 server list: bundled in assets/, refreshed into the cache
//! folder when the internet is reachable (only when the user asks).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const BUNDLED: &str = include_str!("../../assets/iperf3-servers.json");
/// Where the public list is published (JSON array).
pub const REFRESH_URL: &str = "https://export.iperf3serverlist.net/listed_iperf3_servers.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub host: String,
    /// First and last port of the server's range.
    pub ports: [u16; 2],
    #[serde(default)]
    pub continent: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub provider: String,
}

impl Server {
    pub fn port_list(&self) -> Vec<u16> {
        let [a, b] = self.ports;
        (a.min(b)..=a.max(b)).take(64).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerList {
    #[serde(default)]
    pub updated: String,
    #[serde(default)]
    pub source: String,
    pub servers: Vec<Server>,
}

impl ServerList {
    pub fn continents(&self) -> Vec<String> {
        let mut c: Vec<String> = self.servers.iter().map(|s| s.continent.clone()).collect();
        c.sort();
        c.dedup();
        c
    }

    pub fn in_continent(&self, continent: &str) -> Vec<Server> {
        self.servers
            .iter()
            .filter(|s| s.continent.eq_ignore_ascii_case(continent))
            .cloned()
            .collect()
    }
}

pub fn bundled() -> ServerList {
    // The bundled file is part of the binary and checked by a test.
    serde_json::from_str(BUNDLED).unwrap_or(ServerList {
        updated: String::new(),
        source: String::new(),
        servers: Vec::new(),
    })
}

pub fn cache_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("srt-streamer").join("iperf3-servers.json"))
}

/// The refreshed list if there is one, else the bundled one.
pub fn load() -> ServerList {
    cache_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(bundled)
}

pub fn load_file(path: &std::path::Path) -> Result<ServerList, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a server list: {e}", path.display()))
}

/// Parses the public export: an array of objects with "IP/HOST", "PORT"
/// ("5201" or "5200-5209"), "CONTINENT", "COUNTRY", "SITE", "PROVIDER".
pub fn parse_public_export(text: &str) -> Result<Vec<Server>, String> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| format!("not the expected list: {e}"))?;
    let get = |m: &serde_json::Map<String, serde_json::Value>, k: &str| -> String {
        m.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| match v {
                serde_json::Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for m in &items {
        let host = get(m, "IP/HOST");
        let port_text = get(m, "PORT");
        let mut parts = port_text
            .split(['-', ' '])
            .filter_map(|p| p.trim().parse::<u16>().ok());
        let (Some(a), b) = (parts.next(), parts.next()) else {
            continue;
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            continue;
        }
        out.push(Server {
            host,
            ports: [a, b.unwrap_or(a)],
            continent: get(m, "CONTINENT"),
            country: get(m, "COUNTRY"),
            site: get(m, "SITE"),
            provider: get(m, "PROVIDER"),
        });
    }
    if out.is_empty() {
        return Err("the list holds no usable server".into());
    }
    Ok(out)
}

/// Downloads the public list (curl, 10 s limit) into the cache folder.
pub async fn refresh() -> Result<usize, String> {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        crate::child_env::clean_tokio(&mut tokio::process::Command::new("curl"))
            .args(["-fsSL", "--max-time", "10", REFRESH_URL])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| {
        "offline: the server list could not be refreshed (timed out); the bundled list is used"
            .to_string()
    })?
    .map_err(|e| format!("cannot run curl ({e}): install curl to refresh the server list"))?;
    if !out.status.success() {
        return Err("offline: the server list could not be refreshed; the bundled list is used, and manual mode works".into());
    }
    let servers = parse_public_export(&String::from_utf8_lossy(&out.stdout))?;
    let n = servers.len();
    let list = ServerList {
        updated: "refreshed".into(),
        source: REFRESH_URL.into(),
        servers,
    };
    if let Some(p) = cache_path() {
        let _ = std::fs::create_dir_all(p.parent().unwrap_or(std::path::Path::new(".")));
        std::fs::write(&p, serde_json::to_string_pretty(&list).unwrap_or_default())
            .map_err(|e| format!("cannot save the server list to {}: {e}", p.display()))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_list_parses_and_covers_continents() {
        let l = bundled();
        assert!(l.servers.len() >= 10);
        assert!(l.continents().len() >= 5);
        assert!(!l.in_continent("europe").is_empty());
        assert_eq!(l.servers[1].port_list().len(), 10);
    }

    #[test]
    fn public_export_format_is_read_leniently() {
        let text = r#"[{"IP/HOST":"a.example","PORT":"5200-5209","CONTINENT":"Europe","COUNTRY":"FR","SITE":"Paris","PROVIDER":"X"},
                       {"IP/HOST":"b.example","PORT":5201,"CONTINENT":"Asia"},
                       {"IP/HOST":"","PORT":"x"}]"#;
        let s = parse_public_export(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].ports, [5200, 5209]);
        assert_eq!(s[1].ports, [5201, 5201]);
        assert!(parse_public_export("<html>").is_err());
    }
}
