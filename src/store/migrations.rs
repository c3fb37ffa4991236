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
];
