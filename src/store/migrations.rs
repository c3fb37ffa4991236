//! Append-only schema migrations, applied in order by `PRAGMA user_version`.
//! Never edit a shipped entry: add a new one.

pub const MIGRATIONS: &[&str] = &[
    // 1: clusters, last-known jobs and the per-job state timeline.
    "CREATE TABLE clusters (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        overview_json TEXT,
        last_ok_ms INTEGER,
        last_error TEXT,
        last_attempt_ms INTEGER NOT NULL
    );
    CREATE TABLE jobs (
        cluster TEXT NOT NULL,
        jid TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        end_time INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        last_modification INTEGER NOT NULL,
        tasks_json TEXT NOT NULL,
        fetched_at_ms INTEGER NOT NULL,
        PRIMARY KEY (cluster, jid)
    ) WITHOUT ROWID;
    CREATE TABLE job_transitions (
        id INTEGER PRIMARY KEY,
        cluster TEXT NOT NULL,
        jid TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE INDEX job_transitions_by_job ON job_transitions (cluster, jid, at_ms);",
    // 2: launch specs (how to resubmit a job) and the operations journal.
    "CREATE TABLE launch_specs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        cluster TEXT NOT NULL,
        program_json TEXT NOT NULL,
        job_id TEXT,
        last_savepoint TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX launch_specs_by_job ON launch_specs (cluster, job_id);
    CREATE TABLE operations (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        os_user TEXT NOT NULL,
        cluster TEXT NOT NULL,
        job_id TEXT,
        spec_id INTEGER REFERENCES launch_specs (id),
        action TEXT NOT NULL,
        params_json TEXT NOT NULL,
        phase TEXT NOT NULL,
        trigger_id TEXT,
        savepoint TEXT,
        new_job_id TEXT,
        error TEXT
    );
    CREATE INDEX operations_by_job ON operations (cluster, job_id);
    CREATE INDEX operations_by_phase ON operations (phase);",
    // 3: every journalled step of an operation, in order (the operation row keeps the last).
    "CREATE TABLE operation_steps (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations (id),
        at_ms INTEGER NOT NULL,
        phase TEXT NOT NULL,
        note TEXT
    );
    CREATE INDEX operation_steps_by_operation ON operation_steps (operation_id, id);",
    // 4: the SQL workbench: every statement run (searchable history) and the editor's tabs.
    "CREATE TABLE sql_history (
        id INTEGER PRIMARY KEY,
        gateway TEXT NOT NULL,
        session_id TEXT,
        statement TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        duration_ms INTEGER,
        outcome TEXT NOT NULL,
        error TEXT,
        job_id TEXT,
        rows INTEGER
    );
    CREATE INDEX sql_history_by_time ON sql_history (started_ms);
    CREATE INDEX sql_history_by_job ON sql_history (job_id) WHERE job_id IS NOT NULL;
    CREATE TABLE workbench_tabs (
        position INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        cursor_row INTEGER NOT NULL,
        cursor_col INTEGER NOT NULL,
        active INTEGER NOT NULL
    );",
    // 5: editor tabs keyed by a stable id instead of their place, so consoles sharing the
    // file write only the tabs they changed. Tabs saved before keep their order.
    "CREATE TABLE workbench_tabs_by_id (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        cursor_row INTEGER NOT NULL,
        cursor_col INTEGER NOT NULL,
        active INTEGER NOT NULL
    );
    INSERT INTO workbench_tabs_by_id (id, position, title, text, cursor_row, cursor_col, active)
        SELECT 'saved-' || position, position, title, text, cursor_row, cursor_col, active
        FROM workbench_tabs;
    DROP TABLE workbench_tabs;
    ALTER TABLE workbench_tabs_by_id RENAME TO workbench_tabs;",
    // 6: the state a restart left its old job in when it had nothing to restore from (such a
    // restart stays resumable); claims look up a job's unfinished operations by either id.
    "ALTER TABLE operations ADD COLUMN left_job_state TEXT;
    CREATE INDEX operations_by_new_job ON operations (cluster, new_job_id);",
    // 7: the process running an operation ("host:pid"), so a restart another live process
    // is carrying out is neither offered for resume nor resumed twice.
    "ALTER TABLE operations ADD COLUMN owner TEXT;",
    // 8: the watchdog. Alerts (one firing row per fingerprint), silences, the outbox every
    // notification is written to before it is sent, the notification log that says what each
    // channel's group last announced, leases (one active watchdog per database) and the
    // automatic-restart policy of launch specs.
    "CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        cluster TEXT NOT NULL,
        job_id TEXT,
        job_name TEXT,
        jobs_json TEXT NOT NULL,
        summary TEXT NOT NULL,
        cause TEXT,
        action TEXT,
        link TEXT,
        started_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        resolved_ms INTEGER,
        resolution TEXT,
        acked_by TEXT,
        acked_ms INTEGER
    );
    CREATE UNIQUE INDEX alerts_firing ON alerts (fingerprint) WHERE resolved_ms IS NULL;
    CREATE INDEX alerts_by_update ON alerts (updated_ms);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        cluster TEXT,
        job TEXT,
        rule TEXT,
        starts_ms INTEGER NOT NULL,
        ends_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        group_key TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        message_json TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        next_attempt_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        broken INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT,
        claimed_until_ms INTEGER,
        sent_ms INTEGER
    );
    CREATE INDEX outbox_unsent ON outbox (channel, id) WHERE sent_ms IS NULL;
    CREATE TABLE notification_log (
        channel TEXT NOT NULL,
        group_key TEXT NOT NULL,
        firing_json TEXT NOT NULL,
        sent_ms INTEGER NOT NULL,
        PRIMARY KEY (channel, group_key)
    ) WITHOUT ROWID;
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE auto_restart (
        spec_id INTEGER PRIMARY KEY REFERENCES launch_specs (id),
        max_restarts INTEGER NOT NULL,
        window_ms INTEGER NOT NULL,
        backoff_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );",
];
