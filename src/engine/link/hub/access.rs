//! Reading a caller's stream ID.

/// A caller's stream ID, read as SRT's access-control syntax where it uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessRequest {
    pub raw: String,
    /// `r=`: the resource (or the whole ID when it is plain).
    pub resource: String,
    /// `m=`: `request` (the caller receives), `publish` (it sends), `bidirectional`.
    pub mode: Option<String>,
    /// `u=`: the user name.
    pub user: Option<String>,
}

/// Reads `#!::r=live/1,m=request,u=alice`; any other text is a plain resource.
pub fn parse_stream_id(id: &str) -> AccessRequest {
    let mut req = AccessRequest {
        raw: id.to_string(),
        resource: id.to_string(),
        ..Default::default()
    };
    if let Some(body) = id.strip_prefix("#!::") {
        req.resource.clear();
        for pair in body.split(',') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k.trim() {
                "r" => req.resource = v.to_string(),
                "m" => req.mode = Some(v.to_string()),
                "u" => req.user = Some(v.to_string()),
                _ => {}
            }
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_plain_and_access_control_syntax() {
        let plain = parse_stream_id("live/cam1");
        assert_eq!(plain.resource, "live/cam1");
        assert_eq!(plain.mode, None);
        let ac = parse_stream_id("#!::r=live/cam1,m=publish,u=alice");
        assert_eq!(ac.resource, "live/cam1");
        assert_eq!(ac.mode.as_deref(), Some("publish"));
        assert_eq!(ac.user.as_deref(), Some("alice"));
        assert_eq!(parse_stream_id("#!::u=bob").resource, "");
    }
}
