//! Passphrases and RTMP stream keys in a channel's JSON: masked as the rest of the product
//! masks them (`passphrase=***`), and a masked value sent back (a GET
//! edited and PUT) keeps the secret the channel has.

use crate::cli::streams_file::ChannelTable;
use crate::engine::config::mask_uri;
use crate::engine::config::rtmp_text::unmask_rtmp;

/// The table as the API shows it: every URI's passphrase masked.
pub(crate) fn masked(t: &ChannelTable) -> ChannelTable {
    let mut t = t.clone();
    t.input = t.input.as_deref().map(mask_uri);
    for uri in t.inputs.iter_mut().chain(t.outputs.iter_mut()) {
        *uri = mask_uri(uri);
    }
    t
}

/// The value of `passphrase=` in a URI's query.
fn passphrase_of(uri: &str) -> Option<&str> {
    let (_, query) = uri.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("passphrase="))
}

/// `uri` with a masked passphrase (or RTMP stream key) replaced by the
/// one of `old`, when it has one.
fn unmask(uri: &str, old: Option<&String>) -> String {
    if let Some(kept) = old.and_then(|o| unmask_rtmp(uri, o)) {
        return kept;
    }
    let secret = old.and_then(|o| passphrase_of(o));
    match (passphrase_of(uri), secret) {
        (Some("***"), Some(secret)) => {
            uri.replacen("passphrase=***", &format!("passphrase={secret}"), 1)
        }
        _ => uri.to_string(),
    }
}

/// `new` (as sent) with every masked passphrase taken from the same
/// place (input or output, by position) of `old`.
pub(crate) fn keep_secrets(new: &ChannelTable, old: &ChannelTable) -> ChannelTable {
    let old_inputs = old.input.iter().chain(&old.inputs).collect::<Vec<_>>();
    let mut t = new.clone();
    if let Some(one) = &new.input {
        t.input = Some(unmask(one, old_inputs.first().copied()));
    }
    for (i, uri) in t.inputs.iter_mut().enumerate() {
        *uri = unmask(uri, old_inputs.get(i).copied());
    }
    for (i, uri) in t.outputs.iter_mut().enumerate() {
        *uri = unmask(uri, old.outputs.get(i));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_then_sent_back_keeps_the_secret() {
        let old = ChannelTable {
            input: Some("srt://:9000?passphrase=contrib-secret-1".into()),
            outputs: vec![
                "srt://:9001?latency=200&passphrase=readers-secret-2".into(),
                "rtmp://a.rtmp.youtube.com/live2/key-secret-3?s_bl=1".into(),
            ],
            ..serde_json::from_str("{}").unwrap()
        };
        let shown = masked(&old);
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(keep_secrets(&shown, &old), old);
        let mut changed = shown.clone();
        changed.outputs[0] = "srt://:9001?passphrase=new-secret-3".into();
        assert_eq!(
            keep_secrets(&changed, &old).outputs[0],
            "srt://:9001?passphrase=new-secret-3"
        );
    }
}
