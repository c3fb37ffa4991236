//! The Flink JobManager REST client (UI-free).

pub mod client;
pub mod model;

pub use client::{FlinkClient, FlinkError, JarRunRequest};
