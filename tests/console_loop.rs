//! The console's real event loop (`tui::run_on`) on a test terminal with synthetic keys, over
//! the engine and simulated JobManagers: `:reload` changes the cluster set while it runs, a
//! locked database never stops keys and frames, a corrupt cache is moved aside and said, a
//! sandbox that could not start its gateway says how to get one.
//! (SIGHUP, which reaches every console of a process, has its own test binary:
//! `tests/console_sighup.rs`.)

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;

#[path = "common/harness.rs"]
mod harness;
#[path = "common/sim.rs"]
mod sim;

use harness::{Rig, config_file, console, ctrl, drive, key, shows, type_text};
use sim::{Behavior, SimCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_changes_the_clusters_while_the_console_runs() {
    let alpha = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let beta = SimCluster::start(Behavior::Healthy, 1, 4).await.unwrap();
    let Rig { dir, file, screen, mut terminal, keys, input } = Rig::new(&[("alpha", &alpha.url())]);
    let console = console(dir.path(), file.clone());
    let driver = async {
        shows(&screen, &["alpha", "3 jobs"]).await;

        // beta comes and alpha goes, through `:reload`.
        std::fs::write(&file, config_file(&[("beta", &beta.url())])).unwrap();
        keys.send(key(KeyCode::Char(':'))).unwrap();
        type_text(&keys, "reload\n");
        shows(&screen, &["config reloaded: +beta, −alpha"]).await;
        shows(&screen, &["beta", "4 jobs"]).await;
        let text = screen.lock().unwrap().text.replace("−alpha", "");
        assert!(!text.contains("alpha"), "alpha and its jobs left the screen:\n{text}");

        // A broken file is reported and the running set kept.
        std::fs::write(&file, "[[clusters]]\nname = 'x'\nurl = 'not a url'\n").unwrap();
        keys.send(key(KeyCode::Char(':'))).unwrap();
        type_text(&keys, "reload\n");
        shows(&screen, &["config not reloaded, the running clusters stay", "beta"]).await;
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_never_stops_keys_or_frames() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 3).await.unwrap();
    let Rig { dir, file, screen, mut terminal, keys, input } =
        Rig::new(&[("alpha", &cluster.url())]);
    let console = console(dir.path(), file);
    let database = dir.path().join("db.sqlite3");
    let driver = async {
        shows(&screen, &["alpha", "3 jobs"]).await;
        keys.send(key(KeyCode::F(3))).unwrap();
        shows(&screen, &["SQL"]).await;

        // Another process holds the database's write lock for 3 s.
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&database).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            conn.execute_batch("COMMIT").unwrap();
        });
        locked_rx.recv().unwrap();
        let locked_at = Instant::now();
        let frames_before = screen.lock().unwrap().frames.len();
        // Each word changes the editor's tab, which the console saves (to the locked file)
        // on its next tick; every keystroke must still show at once.
        let mut slowest = Duration::ZERO;
        for word in ["select", "one", "two", "three", "four", "five"] {
            let typed = Instant::now();
            type_text(&keys, &format!("{word} "));
            shows(&screen, &[word]).await;
            slowest = slowest.max(typed.elapsed());
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        assert!(locked_at.elapsed() < Duration::from_secs(3), "the keys ran while it was locked");
        let frames = screen.lock().unwrap().frames.len() - frames_before;
        assert!(slowest < Duration::from_millis(500), "a key took {slowest:?} to show");
        assert!(frames >= 12, "only {frames} frames while the database was locked");
        holder.join().unwrap();
        keys.send(key(KeyCode::Esc)).unwrap();
        keys.send(key(KeyCode::F(2))).unwrap();
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_cache_is_moved_aside_and_the_console_says_so() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 2).await.unwrap();
    let Rig { dir, file, screen, mut terminal, keys, input } =
        Rig::new(&[("alpha", &cluster.url())]);
    std::fs::write(dir.path().join("db.sqlite3"), b"this is not a database, it is garbage")
        .unwrap();
    let console = console(dir.path(), file);
    let driver = async {
        // Said on screen (and by `tui::run` on stderr), and the fresh cache works.
        shows(&screen, &["db.sqlite3 was corrupt", "moved it to"]).await;
        shows(&screen, &["alpha", "2 jobs"]).await;
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("db.sqlite3.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "the broken file is kept aside: {kept:?}");
    let garbage = std::fs::read(dir.path().join(&kept[0])).unwrap();
    assert_eq!(garbage, b"this is not a database, it is garbage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_without_its_gateway_says_how_to_get_one() {
    let cluster = SimCluster::start(Behavior::Healthy, 0, 2).await.unwrap();
    let Rig { dir, file, screen, mut terminal, keys, input } =
        Rig::new(&[("alpha", &cluster.url())]);
    let mut console = console(dir.path(), file);
    console.gateway_missing = Some(
        "`mvn` was not found: install Maven (`apt-get install maven`) and start the sandbox again"
            .into(),
    );
    let driver = async {
        shows(&screen, &["no SQL gateway: `mvn` was not found: install Maven"]).await;
        keys.send(key(KeyCode::F(3))).unwrap();
        type_text(&keys, "SELECT 1");
        keys.send(ctrl('e')).unwrap();
        shows(&screen, &["no gateway: `mvn` was not found", "no SQL gateway: `mvn` was not found"])
            .await;
        keys.send(key(KeyCode::Esc)).unwrap();
        keys.send(key(KeyCode::F(2))).unwrap();
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
}
