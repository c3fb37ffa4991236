//! The Flink JobManager REST client (UI-free).

pub mod client;
pub mod model;
pub mod operations;

pub use client::{FlinkClient, FlinkError, JarRunRequest};
