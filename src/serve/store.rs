//! The config file behind `serve`: its `[[stream]]` tables kept as they
//! were, its `[[channel]]` tables those the API made or changed. Every
//! change is written atomically (a temporary file in the same folder,
//! fsync, rename), so a restart of `serve` brings back what the API made.

use super::error::ApiError;
use crate::cli::streams_file::{ChannelTable, StreamsFile};
use crate::engine::StreamId;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One channel as the API knows it.
pub(crate) struct Entry {
    /// Its `[[channel]]` table (secrets in clear: never shown as is);
    /// `None` for a `[[stream]]` with a `udp://` uri (run as a channel,
    /// changed in the file only).
    pub(crate) table: Option<ChannelTable>,
    /// Asked to run (started) or stopped.
    pub(crate) wanted: bool,
}

pub(crate) struct Store {
    path: PathBuf,
    streams: Vec<toml::Table>,
    /// `[profile.NAME]` tables, kept as written.
    profile: BTreeMap<String, toml::Table>,
    /// The same, read by the engine (built-ins beside them).
    pub(crate) profiles: crate::engine::channel::ProfileSet,
    pub(crate) channels: BTreeMap<StreamId, Entry>,
}

/// Why the config file could not be read at start.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("{path}: {source}")]
    Profile {
        path: String,
        source: crate::engine::channel::ProfileError,
    },
}

impl Store {
    /// The file's tables, or nothing when it does not exist yet.
    pub(crate) fn open(path: &Path) -> Result<(Self, Vec<ChannelTable>), StoreError> {
        let shown = path.display().to_string();
        let file: StreamsFile = match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|source| StoreError::Toml {
                path: shown,
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StreamsFile::default(),
            Err(source) => {
                return Err(StoreError::Read {
                    path: shown,
                    source,
                })
            }
        };
        let profiles = file.profiles().map_err(|source| StoreError::Profile {
            path: path.display().to_string(),
            source,
        })?;
        profiles.register();
        let store = Store {
            path: path.to_path_buf(),
            streams: file.stream,
            profile: file.profile,
            profiles,
            channels: BTreeMap::new(),
        };
        Ok((store, file.channel))
    }

    /// The folder relative paths of the file are taken from.
    pub(crate) fn base(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The channel `id` may be changed through the API (it has a table).
    pub(crate) fn table(&self, id: StreamId) -> Result<&ChannelTable, ApiError> {
        let entry = self.channels.get(&id).ok_or(ApiError::NotFound(id))?;
        entry.table.as_ref().ok_or(ApiError::FromStreamTable(id))
    }

    pub(crate) fn table_mut(&mut self, id: StreamId) -> Result<&mut ChannelTable, ApiError> {
        let entry = self.channels.get_mut(&id).ok_or(ApiError::NotFound(id))?;
        entry.table.as_mut().ok_or(ApiError::FromStreamTable(id))
    }

    /// Writes the file: its `[[stream]]` tables, then the channels' tables
    /// in id order; atomically (the old file stays whole until the rename).
    pub(crate) fn save(&self) -> Result<(), ApiError> {
        let file = StreamsFile {
            stream: self.streams.clone(),
            channel: (self.channels.values())
                .filter_map(|e| e.table.clone())
                .collect(),
            profile: self.profile.clone(),
        };
        let text = toml::to_string(&file)?;
        let save = |source| ApiError::Save {
            path: self.path.display().to_string(),
            source,
        };
        write_atomically(&self.path, text.as_bytes()).map_err(save)
    }
}

/// `path` replaced by `bytes` at once: a temporary file beside it,
/// synced, renamed over it, and the folder synced. It may hold
/// passphrases: a new file is readable by its owner only, an existing
/// one keeps its permissions.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        if let Ok(old) = std::fs::metadata(path) {
            f.set_permissions(old.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_kept_and_channels_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "[[stream]]\nfile = 'a.ts'\nuri = 'srt://:9000'\n\n[[channel]]\ninput = 'udp://:5000'\noutputs = ['udp://127.0.0.1:5001']\n",
        )
        .unwrap();
        let (mut store, tables) = Store::open(&path).unwrap();
        assert_eq!(tables.len(), 1);
        store.channels.insert(
            7,
            Entry {
                table: Some(tables[0].clone()),
                wanted: true,
            },
        );
        store.save().unwrap();
        let (again, tables2) = Store::open(&path).unwrap();
        assert_eq!(again.streams, store.streams);
        assert_eq!(tables2, tables);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left");
        use std::os::unix::fs::PermissionsExt;
        let new = dir.path().join("new.toml");
        write_atomically(&new, b"").unwrap();
        let mode = std::fs::metadata(&new).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a new file is private");
    }
}
