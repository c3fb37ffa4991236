//! Serves a simulated fleet on loopback (default 20 clusters x 250 jobs) and prints the
//! `--cluster` flags that point flinkdeck at it. Used by scripts/bench-rss.sh.
//!
//! cargo run --release --example fake_fleet -- [CLUSTERS] [JOBS_PER_CLUSTER]

#[path = "../tests/common/sim.rs"]
mod sim;

use sim::{Behavior, SimCluster};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let clusters = args.next().unwrap_or(20);
    let jobs = args.next().unwrap_or(250);
    let mut servers = Vec::new();
    let mut flags = Vec::new();
    for i in 0..clusters {
        let server = SimCluster::start(Behavior::Healthy, i, jobs).await?;
        flags.push(format!("--cluster session-{i:02}={}", server.url()));
        servers.push(server);
    }
    println!("{}", flags.join(" "));
    // Serve until killed.
    std::future::pending::<()>().await;
    Ok(())
}
