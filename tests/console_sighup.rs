//! SIGHUP reloads the config of a running console (in its own test binary: the signal reaches
//! every console of the process).

use crossterm::event::KeyCode;

#[path = "common/harness.rs"]
mod harness;
#[path = "common/sim.rs"]
mod sim;

use harness::{Rig, config_file, console, drive, key, shows};
use sim::{Behavior, SimCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hangup_reloads_the_config_while_the_console_runs() {
    let alpha = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let beta = SimCluster::start(Behavior::Healthy, 1, 4).await.unwrap();
    let Rig { dir, file, screen, mut terminal, keys, input } = Rig::new(&[("beta", &beta.url())]);
    let console = console(dir.path(), file.clone());
    let driver = async {
        shows(&screen, &["beta", "4 jobs"]).await;
        let both = config_file(&[("alpha", &alpha.url()), ("beta", &beta.url())]);
        std::fs::write(&file, both).unwrap();
        let pid = std::process::id().to_string();
        let sent = std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(sent.success());
        shows(&screen, &["config reloaded: +alpha", "7 jobs"]).await;
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
}
