//! flinkdeck: a terminal console for operating Apache Flink.
//!
//! One UI-free core and its front-ends. The core (`engine` and what it is built from: `config`,
//! `flink`, `gateway`, `fleet`, `poller`, `store`, `ops`, `logs`, `sandbox`) never imports the
//! console; the console (`tui`, the `console` feature) does no I/O of its own. The CLI and the
//! console are both thin front-ends over [`engine::Engine`]. See ARCHITECTURE.md for the map.

pub mod alert;
pub mod cli;
pub mod config;
pub mod engine;
pub mod fleet;
pub mod flink;
pub mod format;
pub mod gateway;
pub mod http;
pub mod insight;
pub mod logs;
pub mod ops;
pub mod paths;
pub mod poller;
pub mod private_fs;
pub mod sandbox;
pub mod secrets;
pub mod sql;
pub mod store;
#[cfg(feature = "console")]
pub mod tui;
pub mod watchdog;
