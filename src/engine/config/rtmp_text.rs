//! The text of an RTMP URI, `rtmp[s]://host[:port]/app/KEY[?query]`, cut
//! into its parts so that the stream key can be masked and put back
//! without parsing the rest. The key is the path after the application
//! plus every query pair that is not one of our own options
//! ([`RTMP_OWN_KEYS`]): platforms put parameters in keys (`?s_bl=…`).

/// The query keys of an RTMP URI that are ours, not the platform's.
pub const RTMP_OWN_KEYS: &[&str] = &["profile", "tls_verify"];

/// What a masked stream key reads as.
pub const MASK: &str = "***";

/// An RTMP URI cut into its parts (texts as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RtmpText<'a> {
    /// `rtmp` or `rtmps`.
    pub(crate) scheme: &'a str,
    /// `host[:port]`.
    pub(crate) authority: &'a str,
    pub(crate) app: &'a str,
    /// The secret: the path after the app, with the platform's query.
    pub(crate) key: String,
    /// Our own `key=value` pairs, in order.
    pub(crate) own: Vec<(&'a str, &'a str)>,
}

/// `rtmp` or `rtmps` when `uri` is an RTMP URI.
pub(crate) fn rtmp_scheme(uri: &str) -> Option<&'static str> {
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    if lower.starts_with("rtmps://") {
        Some("rtmps")
    } else if lower.starts_with("rtmp://") {
        Some("rtmp")
    } else {
        None
    }
}

impl<'a> RtmpText<'a> {
    /// The parts of `uri`, or `None` when it is not an RTMP URI.
    pub(crate) fn split(uri: &'a str) -> Option<Self> {
        let scheme = rtmp_scheme(uri)?;
        let rest = &uri[scheme.len() + 3..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = path.split_once('/').unwrap_or((path, ""));
        let (app, key_path) = path.split_once('/').unwrap_or((path, ""));
        let mut own = Vec::new();
        let mut platform = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if RTMP_OWN_KEYS.contains(&k) {
                own.push((k, v));
            } else {
                platform.push(pair);
            }
        }
        let key = if platform.is_empty() {
            key_path.to_string()
        } else {
            format!("{key_path}?{}", platform.join("&"))
        };
        Some(Self {
            scheme,
            authority,
            app,
            key,
            own,
        })
    }

    /// The URI again, with `key` in the key's place.
    pub(crate) fn join(&self, key: &str) -> String {
        let mut out = format!("{}://{}/{}/{key}", self.scheme, self.authority, self.app);
        for (i, (k, v)) in self.own.iter().enumerate() {
            let sep = if i == 0 && !key.contains('?') {
                '?'
            } else {
                '&'
            };
            out.push(sep);
            out.push_str(&format!("{k}={v}"));
        }
        out
    }

    /// The URI with its key masked (an empty key stays empty: nothing to hide).
    pub(crate) fn masked(&self) -> String {
        if self.key.is_empty() {
            self.join("")
        } else {
            self.join(MASK)
        }
    }
}

/// `uri` with the stream key masked, when it is an RTMP URI.
pub(crate) fn mask_rtmp(uri: &str) -> Option<String> {
    RtmpText::split(uri).map(|t| t.masked())
}

/// `new` (as sent back) with a masked key replaced by the key of `old`,
/// when both are RTMP URIs; `None` when there is nothing to put back.
pub(crate) fn unmask_rtmp(new: &str, old: &str) -> Option<String> {
    let n = RtmpText::split(new)?;
    let o = RtmpText::split(old)?;
    (n.key == MASK).then(|| n.join(&o.key))
}

/// `uri` with each character of its stream key (path and the platform's
/// query) replaced by `dot`, our own options left as typed: as many
/// characters as typed, so a text field's cursor stays where it was.
pub(crate) fn mask_key_chars(uri: &str, dot: char) -> Option<String> {
    let t = RtmpText::split(uri)?;
    let head = t.scheme.len() + 3 + t.authority.len() + 1 + t.app.len();
    let (prefix, rest) = match uri.get(..head) {
        Some(p) => (p, &uri[head..]),
        None => (uri, ""),
    };
    let mut out = prefix.to_string();
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    match path.strip_prefix('/') {
        Some(key) => {
            out.push('/');
            out.extend(key.chars().map(|_| dot));
        }
        None => out.push_str(path),
    }
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| {
                let k = pair.split_once('=').map_or(pair, |(k, _)| k);
                if RTMP_OWN_KEYS.contains(&k) {
                    pair.to_string()
                } else {
                    pair.chars().map(|_| dot).collect()
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_and_the_platform_query_are_the_secret() {
        let t = RtmpText::split(
            "rtmps://live-api-s.facebook.com:443/rtmp/FB-123-0?s_bl=1&s_sc=9&profile=web",
        )
        .unwrap();
        assert_eq!(t.scheme, "rtmps");
        assert_eq!(
            (t.authority, t.app),
            ("live-api-s.facebook.com:443", "rtmp")
        );
        assert_eq!(t.key, "FB-123-0?s_bl=1&s_sc=9");
        assert_eq!(t.own, vec![("profile", "web")]);
        assert_eq!(
            t.masked(),
            "rtmps://live-api-s.facebook.com:443/rtmp/***?profile=web"
        );
        let plain = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh";
        assert_eq!(
            mask_rtmp(plain).unwrap(),
            "rtmp://a.rtmp.youtube.com/live2/***"
        );
        assert_eq!(RtmpText::split(plain).unwrap().join("abcd-efgh"), plain);
        assert_eq!(mask_rtmp("srt://:9000"), None);
    }

    #[test]
    fn a_typed_key_is_dots_of_the_same_length() {
        let typed = "rtmp://h:1935/live/ké-1?s_bl=1&profile=web";
        let shown = mask_key_chars(typed, '•').unwrap();
        assert_eq!(shown, "rtmp://h:1935/live/••••?••••••&profile=web");
        assert_eq!(shown.chars().count(), typed.chars().count());
        assert_eq!(
            mask_key_chars("rtmp://h/live", '•').unwrap(),
            "rtmp://h/live"
        );
        assert_eq!(mask_key_chars("rtmp://h", '•').unwrap(), "rtmp://h");
        assert_eq!(mask_key_chars("srt://:9000", '•'), None);
    }

    #[test]
    fn a_masked_key_sent_back_takes_the_old_one() {
        let old = "rtmp://h/live/secret-key?s_bl=1&profile=web";
        let shown = mask_rtmp(old).unwrap();
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(unmask_rtmp(&shown, old).unwrap(), old);
        assert_eq!(
            unmask_rtmp("rtmp://h/live/new-key", old),
            None,
            "a new key is kept"
        );
    }
}
