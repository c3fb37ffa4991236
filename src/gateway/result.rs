//! `ResultSet`: what a statement returned, fed page by page, in one of two views. The table
//! view materialises the changelog (what `SELECT` means once the updates are applied); the
//! changelog view keeps every change with its kind. Past the row cap it stops storing and
//! keeps counting. Column widths for a grid grow with the stored data, up to a bound.

use super::page::{Change, Column, ResultPage, Row, RowKind};
use super::table::{Applied, MaterializedTable};
use super::value::SqlValue;

/// The widest a column gets in `column_widths`, unless set otherwise.
pub const DEFAULT_MAX_COLUMN_WIDTH: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultView {
    /// The rows the changelog adds up to.
    Table,
    /// Every change, with its kind (`+I`, `-U`, `+U`, `-D`).
    Changelog,
}

/// One stored row: in the changelog view, with its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef<'a> {
    pub kind: Option<RowKind>,
    pub values: &'a [SqlValue],
}

pub struct ResultSet {
    columns: Vec<Column>,
    store: Store,
    row_cap: usize,
    capped: bool,
    change_count: u64,
    /// Additions minus retractions, stored or not: the table's size past the cap.
    net_rows: i64,
    unmatched_retractions: u64,
    widths: Vec<usize>,
    max_column_width: usize,
}

/// A summary: the rows themselves may be a million.
impl std::fmt::Debug for ResultSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultSet")
            .field("view", &self.view())
            .field("columns", &self.columns.iter().map(|c| &c.name).collect::<Vec<_>>())
            .field("stored", &self.len())
            .field("changes", &self.change_count)
            .field("capped", &self.capped)
            .finish()
    }
}

enum Store {
    Table(MaterializedTable),
    Changelog(Vec<Change>),
}

impl ResultSet {
    /// An empty result keeping at most `row_cap` rows (table view) or changes (changelog).
    pub fn new(view: ResultView, row_cap: usize) -> Self {
        let store = match view {
            ResultView::Table => Store::Table(MaterializedTable::new(row_cap)),
            ResultView::Changelog => Store::Changelog(Vec::new()),
        };
        Self {
            columns: Vec::new(),
            store,
            row_cap,
            capped: false,
            change_count: 0,
            net_rows: 0,
            unmatched_retractions: 0,
            widths: Vec::new(),
            max_column_width: DEFAULT_MAX_COLUMN_WIDTH,
        }
    }

    pub fn with_max_column_width(mut self, width: usize) -> Self {
        self.max_column_width = width;
        self.widths.iter_mut().for_each(|w| *w = (*w).min(width));
        self
    }

    /// Adds a page: its columns if none are known yet, then its changes.
    pub fn push_page(&mut self, page: ResultPage) {
        if self.columns.is_empty() && !page.columns.is_empty() {
            self.set_columns(page.columns);
        }
        self.push_changes(page.changes);
    }

    pub fn set_columns(&mut self, columns: Vec<Column>) {
        self.widths =
            columns.iter().map(|c| c.name.chars().count().min(self.max_column_width)).collect();
        self.columns = columns;
    }

    pub fn push_changes(&mut self, changes: impl IntoIterator<Item = Change>) {
        for change in changes {
            self.push(change);
        }
        if let Store::Table(table) = &mut self.store {
            table.settle();
        }
    }

    fn push(&mut self, change: Change) {
        self.change_count += 1;
        self.net_rows += if change.kind.is_retraction() { -1 } else { 1 };
        match &mut self.store {
            Store::Table(table) => match table.apply(change.kind, change.values) {
                Applied::Stored(place) => {
                    grow_widths(&mut self.widths, &table.rows()[place], self.max_column_width)
                }
                Applied::Dropped => self.capped = true,
                Applied::Unmatched => self.unmatched_retractions += 1,
                Applied::Removed => {}
            },
            Store::Changelog(changes) if changes.len() < self.row_cap => {
                grow_widths(&mut self.widths, &change.values, self.max_column_width);
                changes.push(change);
            }
            Store::Changelog(_) => self.capped = true,
        }
    }

    pub fn view(&self) -> ResultView {
        match self.store {
            Store::Table(_) => ResultView::Table,
            Store::Changelog(_) => ResultView::Changelog,
        }
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Stored rows (table view) or changes (changelog view).
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Table(table) => table.rows().len(),
            Store::Changelog(changes) => changes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn row(&self, index: usize) -> Option<RowRef<'_>> {
        match &self.store {
            Store::Table(table) => table.rows().get(index).map(table_row),
            Store::Changelog(changes) => changes.get(index).map(changelog_row),
        }
    }

    pub fn rows(&self) -> Box<dyn Iterator<Item = RowRef<'_>> + '_> {
        match &self.store {
            Store::Table(table) => Box::new(table.rows().iter().map(table_row)),
            Store::Changelog(changes) => Box::new(changes.iter().map(changelog_row)),
        }
    }

    /// How many rows the result has: in the table view counting rows past the cap (additions
    /// minus retractions), in the changelog view every change.
    pub fn row_count(&self) -> u64 {
        match self.store {
            Store::Table(_) => self.net_rows.max(self.len() as i64) as u64,
            Store::Changelog(_) => self.change_count,
        }
    }

    pub fn change_count(&self) -> u64 {
        self.change_count
    }

    pub fn row_cap(&self) -> usize {
        self.row_cap
    }

    /// Whether the cap kept a row or change out: the stored rows are not the whole result.
    pub fn is_capped(&self) -> bool {
        self.capped
    }

    /// Retractions of rows never seen: the changelog started mid-stream, or (once capped)
    /// their rows were not stored.
    pub fn unmatched_retractions(&self) -> u64 {
        self.unmatched_retractions
    }

    /// Per column: the widest of its name and its stored values' `display_width`, at most the
    /// maximum column width. Widths only grow: a grid's columns do not jump back.
    pub fn column_widths(&self) -> &[usize] {
        &self.widths
    }
}

fn table_row(values: &Row) -> RowRef<'_> {
    RowRef { kind: None, values }
}

fn changelog_row(change: &Change) -> RowRef<'_> {
    RowRef { kind: Some(change.kind), values: &change.values }
}

fn grow_widths(widths: &mut [usize], values: &[SqlValue], max: usize) {
    for (width, value) in widths.iter_mut().zip(values) {
        if *width < max {
            *width = (*width).max(value.display_width().min(max));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::sql_type::{SqlType, TypeKind};

    fn columns() -> Vec<Column> {
        let column = |name: &str, kind| Column {
            name: name.into(),
            sql_type: SqlType::new(kind, true),
            comment: None,
        };
        vec![column("word", TypeKind::VarChar { length: 100 }), column("n", TypeKind::BigInt)]
    }

    fn change(kind: RowKind, word: &str, n: i64) -> Change {
        Change { kind, values: vec![SqlValue::String(word.into()), SqlValue::Integer(n)] }
    }

    #[test]
    fn the_table_view_materialises_and_the_changelog_view_keeps_everything() {
        let changes = || {
            vec![
                change(RowKind::Insert, "a", 1),
                change(RowKind::Insert, "b", 1),
                change(RowKind::UpdateBefore, "a", 1),
                change(RowKind::UpdateAfter, "a", 2),
                change(RowKind::Delete, "b", 1),
            ]
        };
        let mut table = ResultSet::new(ResultView::Table, 100);
        table.set_columns(columns());
        table.push_changes(changes());
        assert_eq!(table.len(), 1);
        assert_eq!(table.row_count(), 1);
        assert_eq!(table.change_count(), 5);
        assert_eq!(table.row(0).unwrap().values[1], SqlValue::Integer(2));
        assert_eq!(table.row(0).unwrap().kind, None);

        let mut log = ResultSet::new(ResultView::Changelog, 100);
        log.set_columns(columns());
        log.push_changes(changes());
        assert_eq!(log.len(), 5);
        let kinds: Vec<_> = log.rows().map(|r| r.kind.unwrap().short()).collect();
        assert_eq!(kinds, ["+I", "+I", "-U", "+U", "-D"]);
    }

    #[test]
    fn past_the_cap_rows_are_counted_not_stored() {
        let mut table = ResultSet::new(ResultView::Table, 2);
        table.push_changes((0..5).map(|i| change(RowKind::Insert, "w", i)));
        assert!(table.is_capped());
        assert_eq!((table.len(), table.row_count()), (2, 5));
        // A retraction of a row that was never stored.
        table.push_changes([change(RowKind::Delete, "w", 4)]);
        assert_eq!((table.len(), table.row_count(), table.unmatched_retractions()), (2, 4, 1));

        let mut log = ResultSet::new(ResultView::Changelog, 3);
        log.push_changes((0..5).map(|i| change(RowKind::Insert, "w", i)));
        assert!(log.is_capped());
        assert_eq!((log.len(), log.row_count(), log.change_count()), (3, 5, 5));
    }

    #[test]
    fn widths_fit_the_data_within_a_bound() {
        let mut table = ResultSet::new(ResultView::Table, 100).with_max_column_width(10);
        table.set_columns(columns());
        assert_eq!(table.column_widths(), [4, 1]);
        table.push_changes([change(RowKind::Insert, "abcdef", 123)]);
        assert_eq!(table.column_widths(), [6, 3]);
        table.push_changes([change(RowKind::Insert, "a much longer word", -1)]);
        assert_eq!(table.column_widths(), [10, 3]);
    }
}
