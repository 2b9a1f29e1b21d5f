//! Raised scheduling priority for the threads that time the stream: the
//! GStreamer streaming thread (which waits on the clock and hands datagrams to
//! libsrt) and libsrt's own threads. A nice level, never a real-time policy
//! (a busy thread can then not starve the machine); without the permission
//! (CAP_SYS_NICE / root) nothing changes and playout still works.

use std::collections::HashSet;
use std::sync::Mutex;

/// Nice level for time-critical threads.
const NICE: i32 = -10;

fn renice(tid: libc::pid_t) -> bool {
    // SAFETY: setpriority only reads its integer arguments; on Linux
    // PRIO_PROCESS with a thread ID changes that one thread.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE) == 0 }
}

/// Raises the priority of the calling thread. Returns false when not permitted.
pub fn raise_current_thread() -> bool {
    // SAFETY: gettid has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    renice(tid)
}

/// Raises every libsrt thread of this process (named `SRT:...`) not raised yet.
pub fn raise_srt_threads() {
    static DONE: Mutex<Option<HashSet<i32>>> = Mutex::new(None);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let done = done.get_or_insert_with(HashSet::new);
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<i32>().ok())
        else {
            continue;
        };
        if done.contains(&tid) {
            continue;
        }
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("SRT:") {
            if !renice(tid) {
                tracing::debug!(
                    "cannot raise the priority of libsrt's threads (needs CAP_SYS_NICE)"
                );
            }
            done.insert(tid);
        }
    }
}
