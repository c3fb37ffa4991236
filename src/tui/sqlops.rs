//! The console's side of the SQL workbench: what its keys do and how the gateway worker's
//! events change it. Like every pane, it asks for I/O through effects.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::{App, Effect, Screen};
use super::workbench::catalog::Node;
use super::workbench::popup::{Asking, Completion, HistorySearch, LinePrompt};
use super::workbench::results::{Results, RunState};
use super::workbench::{Connection, Part, Run};
use crate::gateway::worker::{SqlCommand, SqlEvent};
use crate::gateway::{GatewayError, JsonLayout};
use crate::sql::{Position, Statement, local_candidates, split, statement_at, word_at};
use crate::store::sql::StatementRecord;

impl App {
    pub(super) fn open_workbench(&mut self) {
        self.screen = Screen::Workbench;
        let bench = &mut self.workbench;
        if let Some(why) = bench.connection.unusable() {
            self.say_error(why);
            return;
        }
        if bench.catalog.nodes.is_empty() && !bench.catalog.loading_root {
            bench.catalog.loading_root = true;
            self.effects.push(Effect::Sql(SqlCommand::Catalog { path: Vec::new(), kind: None }));
        }
    }

    /// Keys while the workbench is shown; pop-ups and prompts take them first.
    pub(super) fn workbench_key(&mut self, key: KeyEvent) {
        if self.workbench.history.is_some() {
            return self.history_key(key);
        }
        if self.workbench.prompt.is_some() {
            return self.prompt_key(key);
        }
        if self.workbench.catalog.editing_filter {
            return self.catalog_filter_key(key);
        }
        if self.workbench.completion.is_some() && self.completion_key(key) {
            return;
        }
        self.status = None;
        let asked_to_close = self.workbench.confirm_close;
        if let Some(action) = self.keymap.action(self.context(), key) {
            self.dispatch(action);
        } else if self.workbench.focus == Part::Editor {
            let (height, width) = self.workbench.editor_size;
            self.workbench.tab_mut().key(key, height, width);
        }
        // The question about closing lasts one key.
        if asked_to_close {
            self.workbench.confirm_close = false;
        }
    }

    /// A workbench action; false if it is not one.
    pub(super) fn sql_action(&mut self, action: Action) -> bool {
        if self.screen != Screen::Workbench {
            return false;
        }
        let page = self.viewport.height.saturating_sub(6).max(1) as isize / 2;
        let bench = &mut self.workbench;
        match (bench.focus, action) {
            (_, Action::RunStatement) => self.run_statements(false),
            (_, Action::RunAll) => self.run_statements(true),
            (_, Action::CancelStatement) => match bench.run.is_some() {
                true => self.effects.push(Effect::Sql(SqlCommand::Cancel)),
                false => self.say("nothing is running (ctrl-q quits)".into()),
            },
            (_, Action::Complete) => self.start_completion(),
            (_, Action::SubmitScript) => self.ask_to_submit_script(),
            (_, Action::SqlHistory) => {
                bench.history = Some(HistorySearch::default());
                self.effects.push(Effect::SearchHistory(String::new()));
            }
            (_, Action::NewTab) => bench.new_tab(),
            (_, Action::CloseTab) => {
                // A tab with text closes on a second press: ctrl-w deletes a word elsewhere.
                if bench.tab().text().trim().is_empty() || bench.confirm_close {
                    bench.close_tab();
                } else {
                    bench.confirm_close = true;
                    let title = bench.tab().title.clone();
                    self.say(format!("{title} has text: ctrl-w again closes it"));
                    return true;
                }
            }
            (_, Action::NextTab) => bench.cycle_tab(true),
            (_, Action::PrevTab) => bench.cycle_tab(false),
            (_, Action::FocusEditor) => bench.focus = Part::Editor,
            (_, Action::FocusResults) => bench.focus = Part::Results,
            (_, Action::FocusCatalog) => bench.focus = Part::Catalog,
            (Part::Results, _) => return self.results_action(action, page),
            (Part::Catalog, _) => return self.catalog_action(action),
            _ => return false,
        }
        true
    }

    fn results_action(&mut self, action: Action, page: isize) -> bool {
        let Some(results) = &mut self.workbench.results else {
            return matches!(action, Action::Up | Action::Down | Action::Left | Action::Right);
        };
        match action {
            Action::Up => results.move_row(-1),
            Action::Down => results.move_row(1),
            Action::PageUp => results.move_row(-page),
            Action::PageDown => results.move_row(page),
            Action::Top => results.move_row(isize::MIN / 2),
            Action::Bottom => results.move_row(isize::MAX / 2),
            Action::Left => results.move_column(-1),
            Action::Right => results.move_column(1),
            Action::ToggleChangelog => results.toggle_view(),
            Action::CopyCell | Action::CopyRow => {
                let text = match action {
                    Action::CopyCell => results.cell_text(),
                    _ => results.row_text(),
                };
                match text {
                    Some(text) => {
                        self.effects.push(Effect::CopyToClipboard(text));
                        self.say("copied (OSC 52)".into());
                    }
                    None => self.say_error("no cell selected".into()),
                }
                return true;
            }
            Action::ExportResult => {
                self.workbench.prompt =
                    Some(LinePrompt { asking: Asking::ExportPath, text: "result.csv".into() });
                return true;
            }
            Action::JumpToJob => {
                match results.job_id.clone() {
                    Some(jid) => self.jump_to_job(&jid),
                    None => self.say_error("this statement started no job".into()),
                }
                return true;
            }
            Action::KeepAsSpec => {
                self.keep_as_spec();
                return true;
            }
            _ => return false,
        }
        let (height, width) = self.results_size();
        if let Some(results) = &mut self.workbench.results {
            results.scroll_into_view(height, width);
            if let Some(info) = results.column_info() {
                self.say(info);
            }
        }
        true
    }

    fn results_size(&self) -> (usize, usize) {
        let body = super::layout::Areas::of(self.viewport, 0).body;
        let (_, _, results) = super::workbench::Workbench::areas(body);
        (results.height.saturating_sub(3) as usize, results.width.saturating_sub(6) as usize)
    }

    fn catalog_action(&mut self, action: Action) -> bool {
        let tree = &mut self.workbench.catalog;
        match action {
            Action::Up => tree.move_by(-1),
            Action::Down => tree.move_by(1),
            Action::Open => {
                if let Some((path, kind)) = tree.open_selected() {
                    self.effects.push(Effect::Sql(SqlCommand::Catalog { path, kind: Some(kind) }));
                }
            }
            Action::Back => tree.close_selected(),
            Action::Filter => tree.editing_filter = true,
            Action::Refresh => {
                tree.loading_root = true;
                tree.nodes.clear();
                self.effects
                    .push(Effect::Sql(SqlCommand::Catalog { path: Vec::new(), kind: None }));
            }
            Action::InsertName => {
                let Some(name) = tree.selected_node().map(Node::sql_name) else { return true };
                let (height, width) = self.workbench.editor_size;
                self.workbench.tab_mut().insert(0, &name, height, width);
                self.workbench.focus = Part::Editor;
            }
            _ => return false,
        }
        true
    }

    fn catalog_filter_key(&mut self, key: KeyEvent) {
        let tree = &mut self.workbench.catalog;
        match key.code {
            KeyCode::Enter => tree.editing_filter = false,
            KeyCode::Esc => {
                tree.editing_filter = false;
                tree.filter.clear();
            }
            KeyCode::Backspace => {
                tree.filter.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                tree.filter.push(c)
            }
            _ => {}
        }
        tree.selected = 0;
    }

    /// Runs the selection, else the statement under the cursor (or, with `all`, every one).
    fn run_statements(&mut self, all: bool) {
        let bench = &mut self.workbench;
        if let Some(why) = bench.connection.unusable() {
            self.say_error(why);
            return;
        }
        if bench.run.is_some() {
            self.say_error("a statement is running: ctrl-c cancels it".into());
            return;
        }
        let tab = bench.tab();
        let statements: Vec<Statement> = match tab.selection() {
            Some((text, at)) => split(&text).into_iter().map(|s| shifted(s, at)).collect(),
            None if all => split(&tab.text()),
            None => statement_at(&tab.text(), tab.cursor_offset()).into_iter().collect(),
        };
        // A BEGIN STATEMENT SET unit goes to the gateway piece by piece.
        let statements: Vec<Statement> =
            statements.iter().flat_map(|s| s.submissions().to_vec()).collect();
        if statements.is_empty() {
            self.say("nothing to run here".into());
            return;
        }
        let texts = statements.iter().map(|s| s.text.clone()).collect();
        bench.run = Some(Run { tab: bench.active, statements });
        bench.tab_mut().error_at = None;
        self.effects.push(Effect::Sql(SqlCommand::Run(texts)));
    }

    fn start_completion(&mut self) {
        let bench = &mut self.workbench;
        let tab = bench.tab();
        let script = tab.text();
        let cursor = tab.cursor_offset();
        let (start, word) = word_at(&script, cursor);
        let word = word.to_string();
        let candidates: Vec<String> = local_candidates(&word, &bench.catalog.names())
            .into_iter()
            .map(|c| c.text)
            .take(200)
            .collect();
        let connected = matches!(bench.connection, Connection::Connected { .. });
        if candidates.is_empty() && !connected {
            self.say(format!("nothing completes {word:?}"));
            return;
        }
        // Shown at once with the local candidates; the gateway's join when they come.
        bench.completion = Some(Completion { word: word.clone(), candidates, selected: 0 });
        if !connected {
            return;
        }
        // The gateway's hints for the statement the cursor is in, at the cursor.
        let from = statement_at(&script, cursor).map_or(0, |s| s.range.start.min(start));
        let statement = script[from..cursor].to_string();
        let position = statement.chars().count();
        self.effects.push(Effect::Sql(SqlCommand::Complete { statement, position }));
    }

    /// Keys while completion shows; false lets the key through to the editor.
    fn completion_key(&mut self, key: KeyEvent) -> bool {
        let bench = &mut self.workbench;
        let completion = bench.completion.as_mut().expect("checked");
        match key.code {
            KeyCode::Up => completion.move_by(-1),
            KeyCode::Down => completion.move_by(1),
            KeyCode::Esc => bench.completion = None,
            KeyCode::Tab | KeyCode::Enter => {
                let chosen = completion.chosen().map(str::to_string);
                let replace = completion.word.chars().count();
                bench.completion = None;
                if let Some(text) = chosen {
                    let (height, width) = bench.editor_size;
                    bench.tab_mut().insert(replace, &text, height, width);
                }
            }
            _ => {
                bench.completion = None;
                return false;
            }
        }
        true
    }

    fn history_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let bench = &mut self.workbench;
        let history = bench.history.as_mut().expect("checked");
        match key.code {
            KeyCode::Esc => bench.history = None,
            KeyCode::Up => history.move_by(-1),
            KeyCode::Down => history.move_by(1),
            // enter recalls the statement into the editor; ctrl-e also runs it.
            KeyCode::Enter | KeyCode::Char('e') if key.code == KeyCode::Enter || ctrl => {
                let chosen = history.chosen().map(|r: &StatementRecord| r.statement.clone());
                bench.history = None;
                let Some(statement) = chosen else { return };
                // Into an empty tab: a new one if this one has text.
                if !bench.tab().text().trim().is_empty() {
                    bench.new_tab();
                }
                let (height, width) = bench.editor_size;
                bench.tab_mut().replace_all(&format!("{statement};"), height, width);
                bench.focus = Part::Editor;
                if ctrl {
                    self.run_statements(true);
                }
            }
            KeyCode::Backspace => {
                history.query.pop();
                self.effects.push(Effect::SearchHistory(history.query.clone()));
            }
            KeyCode::Char(c) if !ctrl => {
                history.query.push(c);
                self.effects.push(Effect::SearchHistory(history.query.clone()));
            }
            _ => {}
        }
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let bench = &mut self.workbench;
        let prompt = bench.prompt.as_mut().expect("checked");
        match key.code {
            KeyCode::Esc => bench.prompt = None,
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.text.push(c)
            }
            KeyCode::Enter => {
                let (asking, answer) = (prompt.asking, prompt.text.trim().to_string());
                bench.prompt = None;
                match asking {
                    Asking::ExportPath => self.export(answer),
                    Asking::JobName => {
                        let script = self.workbench.tab().text();
                        self.say(format!("submitting {answer}…"));
                        self.effects.push(Effect::SubmitSql { name: answer, script });
                    }
                }
            }
            _ => {}
        }
    }

    /// Writes the shown result as JSON (a `.json` path) or CSV to `path`.
    fn export(&mut self, path: String) {
        let Some(results) = &self.workbench.results else { return };
        let mut out = Vec::new();
        let written = if path.ends_with(".json") {
            results.shown().write_json(&mut out, JsonLayout::Array)
        } else {
            results.shown().write_csv(&mut out)
        };
        match written {
            Ok(()) => self.effects.push(Effect::SaveFile {
                path,
                contents: String::from_utf8_lossy(&out).into_owned(),
            }),
            Err(e) => self.say_error(format!("export failed: {e}")),
        }
    }

    /// Asks for a name, then submits the tab's script as a SQL launch spec (SET and DDL,
    /// then one INSERT or statement set), so the job can be restarted from a savepoint.
    fn ask_to_submit_script(&mut self) {
        if let Err(problem) = crate::ops::check_script(&self.workbench.tab().text()) {
            self.say_error(problem);
            return;
        }
        let text = self.workbench.tab().title.replace(' ', "-");
        self.workbench.prompt = Some(LinePrompt { asking: Asking::JobName, text });
    }

    /// Shows the job list with `jid` selected (refreshing first if it is not there yet).
    fn jump_to_job(&mut self, jid: &str) {
        self.screen = Screen::Fleet;
        self.detail = None;
        self.log_view = None;
        self.jobs.filter.clear();
        self.jobs.cluster_filter = None;
        self.jobs.state_filter = super::panes::jobs::StateFilter::All;
        self.resync_jobs();
        if !self.select_job(jid) {
            self.pending_jump = Some(jid.to_string());
            self.effects.push(Effect::Refresh);
            self.say(format!("job {jid} is not in the list yet: refreshing…"));
        }
    }

    /// Saves the INSERT that the last run started, with the statements that set its session
    /// up, as a SQL launch spec, so the job can be restarted from a savepoint.
    fn keep_as_spec(&mut self) {
        let Some(results) = &self.workbench.results else { return };
        let (Some(job_id), Some(script)) = (results.job_id.clone(), results.script.clone()) else {
            self.say_error(
                "only an INSERT or a statement set can be kept as a launch spec, not a query"
                    .into(),
            );
            return;
        };
        let job = self.fleet.clusters.iter().find_map(|c| {
            c.jobs.iter().find(|j| j.summary.jid == job_id).map(|j| (c.name.clone(), j))
        });
        let cluster = job.as_ref().map(|(c, _)| c.clone());
        let name = job
            .map(|(_, j)| j.summary.name.clone())
            .unwrap_or_else(|| format!("sql-{}", &job_id[..job_id.len().min(8)]));
        self.say(format!("keeping {name} as a SQL launch spec…"));
        self.effects.push(Effect::KeepSqlJob { cluster, job_id, name, script });
    }

    pub fn on_sql_event(&mut self, event: SqlEvent) {
        let now = self.now_ms;
        let bench = &mut self.workbench;
        match event {
            SqlEvent::Connected { session, version } => {
                let url = match &bench.connection {
                    Connection::Connecting(url) => url.clone(),
                    Connection::Connected { url, .. } => url.clone(),
                    _ => String::new(),
                };
                bench.connection = Connection::Connected { url, version, session };
            }
            SqlEvent::Unavailable(why) => {
                bench.connection = Connection::Unavailable(why.clone());
                bench.run = None;
                bench.catalog.loading_root = false;
                bench.catalog.error = Some(why.clone());
                self.say_error(why);
            }
            SqlEvent::Notice(text) => self.say(text),
            SqlEvent::Started { statement, .. } => {
                bench.results = Some(Results::new(statement, now, bench.row_cap));
            }
            SqlEvent::Columns(columns) => {
                if let Some(results) = &mut bench.results {
                    results.set_columns(columns);
                }
            }
            SqlEvent::Rows(changes) => {
                if let Some(results) = &mut bench.results {
                    results.push(changes);
                }
            }
            SqlEvent::Job { id: jid, script } => {
                let launchable = script.is_some();
                if let Some(results) = &mut bench.results {
                    results.job_id = Some(jid.clone());
                    results.script = script;
                }
                bench.started_jobs.insert(jid.clone());
                // A query's job shows in the results' title; only a job meant to stay is said.
                if launchable {
                    self.say(format!(
                        "started job {jid}: in the results (F4) J jumps to it, K keeps it as a launch spec"
                    ));
                }
                self.effects.push(Effect::Refresh);
            }
            SqlEvent::Finished { index, canceled } => {
                if let Some(results) = &mut bench.results {
                    results.state = if canceled { RunState::Canceled } else { RunState::Done };
                    results.finished_ms = Some(now);
                }
                let last = bench.run.as_ref().is_none_or(|r| index + 1 >= r.statements.len());
                if canceled || last {
                    bench.run = None;
                }
            }
            SqlEvent::Failed { index, error } => self.statement_failed(index, error),
            SqlEvent::History(found) => self.on_history_found(found),
            SqlEvent::Completions { candidates } => {
                if let Some(completion) = &mut bench.completion {
                    let word = completion.word.to_lowercase();
                    let mut merged: Vec<String> = candidates
                        .into_iter()
                        .filter(|c| c.to_lowercase().starts_with(&word))
                        .collect();
                    for local in completion.candidates.drain(..) {
                        if !merged.iter().any(|m| m.eq_ignore_ascii_case(&local)) {
                            merged.push(local);
                        }
                    }
                    if merged.is_empty() {
                        let word = completion.word.clone();
                        bench.completion = None;
                        self.say(format!("nothing completes {word:?}"));
                    } else {
                        completion.candidates = merged;
                        completion.selected = 0;
                    }
                }
            }
            SqlEvent::Catalog { path, result } => {
                if path.is_empty() {
                    match result {
                        Ok(nodes) => {
                            let names = nodes.iter().map(|n| n.name().to_string()).collect();
                            bench.catalog.set_catalogs(names);
                        }
                        Err(error) => {
                            bench.catalog.loading_root = false;
                            bench.catalog.error = Some(error);
                        }
                    }
                } else {
                    bench.catalog.set_children(&path, result);
                }
            }
        }
    }

    fn statement_failed(&mut self, index: usize, error: GatewayError) {
        let now = self.now_ms;
        let bench = &mut self.workbench;
        let run = bench.run.take();
        let statement = run.as_ref().and_then(|r| r.statements.get(index).cloned());
        let mut message = error.to_string();
        if let (GatewayError::Sql { line: Some(line), column: Some(column), .. }, Some(statement)) =
            (&error, &statement)
        {
            let at = statement.script_position(*line as usize, *column as usize);
            message = format!("line {}, column {}: {message}", at.line + 1, at.column + 1);
            let tab = run.as_ref().map_or(bench.active, |r| r.tab);
            if let Some(tab) = bench.tabs.get_mut(tab) {
                let (height, width) = bench.editor_size;
                tab.mark_error(at, height, width);
            }
        }
        let text = statement.map(|s| s.text).unwrap_or_default();
        let cap = bench.row_cap;
        let results = bench.results.get_or_insert_with(|| Results::new(text, now, cap));
        results.state = RunState::Failed(message.clone());
        results.finished_ms = Some(now);
        self.say_error(message);
    }

    fn on_history_found(&mut self, found: Vec<StatementRecord>) {
        if let Some(history) = &mut self.workbench.history {
            history.found = found;
            history.selected = 0;
        }
    }
}

/// A statement split out of a selection that starts at `at`, placed in the whole script.
fn shifted(mut statement: Statement, at: Position) -> Statement {
    if statement.start.line == 0 {
        statement.start.column += at.column;
    }
    statement.start.line += at.line;
    statement
}
