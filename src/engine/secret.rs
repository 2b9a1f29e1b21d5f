//! Secrets that never print: SRT passphrases and RTMP stream keys.

use std::fmt;

/// A text that prints as `***`: `Debug`, `Display` and serialising all
/// write the mask; the only way to read it is `expose`, used where it is
/// handed to libsrt or GStreamer.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                Self(text.into())
            }

            pub fn expose(&self) -> &str {
                &self.0
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }

        /// Serialising writes the mask, never the text.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str("***")
            }
        }
    };
}

secret_type!(
    /// An SRT passphrase.
    Passphrase
);

secret_type!(
    /// An RTMP stream key: the path after the application, with the query
    /// the platform needs (`KEY?s_bl=…`), as written in the URI.
    StreamKey
);

impl Passphrase {
    /// Length in characters (libsrt counts bytes; interop wants 10–79).
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let p = Passphrase::new("correct horse battery");
        assert_eq!(format!("{p} {p:?}"), "*** ***");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"***\"");
        assert_eq!(p.expose(), "correct horse battery");
        let k = StreamKey::new("live_1234?s_bl=1");
        assert_eq!(format!("{k} {k:?}"), "*** ***");
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"***\"");
    }
}
