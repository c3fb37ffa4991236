//! flinkdeck: a terminal console for operating Apache Flink.
//!
//! The core (`config`, `flink`, `gateway`, `fleet`, `poller`, `monitor`, `store`, `sandbox`)
//! does no drawing; the console (`tui`) does no I/O of its own. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod config;
pub mod fleet;
pub mod flink;
pub mod gateway;
pub mod http;
pub mod insight;
pub mod logs;
pub mod monitor;
pub mod ops;
pub mod paths;
pub mod poller;
pub mod private_fs;
pub mod sandbox;
pub mod secrets;

pub mod sim;
pub mod sql;
pub mod store;
pub mod tui;
