//! A passphrase that never prints.

use std::fmt;

/// An SRT passphrase. `Debug` and `Display` print `***`; the only way to read
/// the text is [`Passphrase::expose`], used where it is handed to libsrt.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Passphrase(String);

impl Passphrase {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters (libsrt counts bytes; interop wants 10–79).
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Serialising a passphrase writes the mask, never the text.
impl serde::Serialize for Passphrase {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
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
    }
}
