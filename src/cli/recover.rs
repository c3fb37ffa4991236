//! Bulk recovery: `flinkdeck restart --failed-since 10m [--cluster NAME] [--json]` restarts
//! every job that FAILED within the window from its latest checkpoint, a few at a time, and
//! says what became of each; jobs it cannot restart are listed with the reason.

use color_eyre::eyre::{Result, bail, eyre};

use crate::engine::Engine;
use crate::fleet::now_ms;
use crate::ops::recovery::{self, Recovery};

pub async fn restart_failed(engine: &Engine, since: &str, as_json: bool) -> Result<()> {
    let window = crate::format::parse_duration(since).map_err(|e| eyre!(e))?;
    let update = engine.poll_once().await;
    let targets = recovery::failed_since(&update.fleet, now_ms() - window);
    let operators =
        targets.iter().map(|t| (t.cluster.clone(), engine.operator(&t.cluster))).collect();
    let recoveries = recovery::recover(targets, &operators, |_| {}).await;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&recoveries)?);
    } else if recoveries.is_empty() {
        println!("no job FAILED within {since}");
    } else {
        for r in &recoveries {
            println!("{}", r.describe());
        }
        println!("{}", recovery::summary(&recoveries));
    }
    if !recoveries.iter().all(Recovery::is_back) {
        bail!("not every failed job was restarted (see above)");
    }
    Ok(())
}
