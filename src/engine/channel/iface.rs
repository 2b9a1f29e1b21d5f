//! Network interfaces named in `iface=`: a name (`eth0`) or an IPv4 address,
//! checked against the interfaces this machine has, so a typo is refused
//! with the list of the ones that exist (not a socket's `os error 99`).

use crate::engine::config::ConfigError;
use std::net::{IpAddr, Ipv4Addr};

/// One interface: its name and IPv4 addresses.
struct Iface {
    name: String,
    v4: Vec<Ipv4Addr>,
}

fn interfaces() -> Vec<Iface> {
    let Ok(nets) = sysinfo::Networks::new_with_refreshed_list() else {
        return Vec::new();
    };
    let mut out: Vec<Iface> = nets
        .iter()
        .map(|(name, data)| Iface {
            name: name.to_string_lossy().into_owned(),
            v4: data
                .ip_networks()
                .iter()
                .filter_map(|n| match n.addr {
                    IpAddr::V4(a) => Some(a),
                    IpAddr::V6(_) => None,
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The name of the interface that has `addr` (an egress socket's local
/// address), if any.
pub(crate) fn name_of(addr: IpAddr) -> Option<String> {
    let nets = sysinfo::Networks::new_with_refreshed_list().ok()?;
    nets.iter()
        .find(|(_, data)| data.ip_networks().iter().any(|n| n.addr == addr))
        .map(|(name, _)| name.to_string_lossy().into_owned())
}

/// `lo 127.0.0.1, eth0 192.0.2.2, ifb0 (no IPv4 address)`.
fn listing(all: &[Iface]) -> String {
    if all.is_empty() {
        return "none found".to_string();
    }
    all.iter()
        .map(|i| match i.v4.as_slice() {
            [] => format!("{} (no IPv4 address)", i.name),
            v4 => {
                let a: Vec<String> = v4.iter().map(|a| a.to_string()).collect();
                format!("{} {}", i.name, a.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The IPv4 address `iface=VALUE` stands for: the address itself, or the
/// first IPv4 address of the interface of that name.
pub(crate) fn resolve(value: &str) -> Result<Ipv4Addr, ConfigError> {
    if let Ok(a) = value.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    let all = interfaces();
    let refuse = |why: &'static str| ConfigError::Interface {
        value: value.to_string(),
        why,
        known: listing(&all),
    };
    match all.iter().find(|i| i.name == value) {
        Some(i) => {
            i.v4.first()
                .copied()
                .ok_or_else(|| refuse("that interface has no IPv4 address"))
        }
        None => Err(refuse("no network interface has that name")),
    }
}

/// Refuses an interface address that no interface here has.
pub(crate) fn check_present(addr: Ipv4Addr) -> Result<(), ConfigError> {
    let all = interfaces();
    if all.is_empty() || all.iter().any(|i| i.v4.contains(&addr)) {
        return Ok(());
    }
    Err(ConfigError::Interface {
        value: addr.to_string(),
        why: "no network interface has that address",
        known: listing(&all),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_name_and_address_and_unknown_names_listed() {
        assert_eq!(resolve("lo").unwrap(), Ipv4Addr::LOCALHOST);
        assert_eq!(resolve("127.0.0.1").unwrap(), Ipv4Addr::LOCALHOST);
        check_present(Ipv4Addr::LOCALHOST).unwrap();
        let e = resolve("nosuch0").unwrap_err().to_string();
        assert!(e.contains("nosuch0") && e.contains("lo 127.0.0.1"), "{e}");
        let e = check_present(Ipv4Addr::new(10, 9, 9, 9))
            .unwrap_err()
            .to_string();
        assert!(e.contains("10.9.9.9") && e.contains("lo 127.0.0.1"), "{e}");
    }
}
