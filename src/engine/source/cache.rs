//! Probe results kept per file version, so a line-up that plays one file
//! many times reads it once: the preflight check and each stream's start
//! probe the same file, and 50 streams of one file read it 100 times
//! otherwise. A file is the same version while its device, inode, size and
//! modification time are; anything else (a rewritten file, another
//! request) is probed again. Only successes are kept; at most
//! [`MAX_ENTRIES`], the oldest forgotten first.

use super::{ProbeRequest, SourceError, SourceInfo};
use crate::engine::shared::lock;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Probe results kept.
pub(crate) const MAX_ENTRIES: usize = 64;

#[derive(Debug, Clone, PartialEq)]
struct Key {
    path: PathBuf,
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    req: ProbeRequest,
}

impl Key {
    fn of(path: &Path, req: ProbeRequest) -> Option<Self> {
        let path = std::fs::canonicalize(path).ok()?;
        let m = std::fs::metadata(&path).ok()?;
        Some(Self {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            path,
            req,
        })
    }
}

static CACHE: Mutex<Vec<(Key, SourceInfo)>> = Mutex::new(Vec::new());

/// `probe()`'s result for `path` and `req`, from the cache when this
/// version of the file was probed already with the same request.
pub(super) fn probe_once(
    path: &Path,
    req: ProbeRequest,
    probe: impl FnOnce() -> Result<SourceInfo, SourceError>,
) -> Result<SourceInfo, SourceError> {
    let Some(key) = Key::of(path, req) else {
        return probe();
    };
    let hit = lock(&CACHE)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, info)| info.clone());
    if let Some(mut info) = hit {
        info.path = path.to_path_buf();
        return Ok(info);
    }
    let info = probe()?;
    let mut cache = lock(&CACHE);
    if cache.len() >= MAX_ENTRIES {
        cache.remove(0);
    }
    cache.push((key, info.clone()));
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(path: &Path) -> SourceInfo {
        super::super::probe_uncached(path, ProbeRequest::default()).expect("a TS file")
    }

    #[test]
    fn a_file_is_probed_once_per_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.ts");
        let sample = std::fs::read("media/sample.ts").expect("sample");
        std::fs::write(&path, &sample[..188 * 5000]).expect("write");
        let probes = std::cell::Cell::new(0);
        let probe = || {
            probes.set(probes.get() + 1);
            Ok(info(&path))
        };
        let first = probe_once(&path, ProbeRequest::default(), probe).expect("probed");
        let again = probe_once(&path, ProbeRequest::default(), probe).expect("cached");
        assert_eq!((first.packets, again.packets), (5000, 5000));
        assert_eq!(probes.get(), 1, "the same version is probed once");
        // Another request, or the file rewritten: probed again.
        let req = ProbeRequest {
            bitrate_bps: Some(1_000_000),
            pcr_pid: None,
        };
        probe_once(&path, req, probe).expect("probed");
        std::fs::write(&path, &sample[..188 * 6000]).expect("rewrite");
        let new = probe_once(&path, ProbeRequest::default(), probe).expect("probed");
        assert_eq!((probes.get(), new.packets), (3, 6000));
    }
}
