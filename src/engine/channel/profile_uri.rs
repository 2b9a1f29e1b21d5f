//! `?profile=NAME` on any output URI: taken off before the output's own
//! keys are read, written back after them.

use crate::engine::config::ConfigError;

/// The URI without its `profile=` key, and the name given (if any).
pub(crate) fn take_profile(uri: &str) -> Result<(String, Option<String>), ConfigError> {
    let Some((head, query)) = uri.split_once('?') else {
        return Ok((uri.to_string(), None));
    };
    let mut name = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("profile", v)) => name = Some(v.to_string()),
            None if pair == "profile" => name = Some(String::new()),
            _ => rest.push(pair),
        }
    }
    if rest.is_empty() {
        return Ok((head.to_string(), name));
    }
    Ok((format!("{head}?{}", rest.join("&")), name))
}

/// `uri` with `profile=NAME` added to its query.
pub(crate) fn with_profile(uri: String, name: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}profile={name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_key_comes_off_and_goes_back() {
        let (rest, name) = take_profile("srt://:9000?latency=200&profile=h264-4m").unwrap();
        assert_eq!(
            (rest.as_str(), name.as_deref()),
            ("srt://:9000?latency=200", Some("h264-4m"))
        );
        let (rest, name) = take_profile("udp://127.0.0.1:5000?profile=web").unwrap();
        assert_eq!(
            (rest.as_str(), name.as_deref()),
            ("udp://127.0.0.1:5000", Some("web"))
        );
        assert_eq!(take_profile("file:///r.ts").unwrap().1, None);
        assert_eq!(
            with_profile("file:///r.ts".into(), "web"),
            "file:///r.ts?profile=web"
        );
        assert_eq!(
            with_profile("srt://:1?latency=200".into(), "web"),
            "srt://:1?latency=200&profile=web"
        );
    }
}
