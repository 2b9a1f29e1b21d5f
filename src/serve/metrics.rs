//! `/metrics`: Prometheus text exposition of the manager's snapshots.
//!
//! STUB, owned by the `metrics` helper (issue 20): it replaces this file
//! (and may add `metrics_*.rs` beside it). The router in `serve/mod.rs`
//! calls [`render`] with the manager locked; keep the signature.

use crate::engine::StreamManager;

/// The exposition text for every channel of `manager` (now: build_info only).
pub(crate) fn render(_manager: &StreamManager) -> String {
    format!(
        "# HELP srtstreamer_build_info Build information.\n# TYPE srtstreamer_build_info gauge\nsrtstreamer_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    )
}
