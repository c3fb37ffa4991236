//! The table a changelog describes: `+I` and `+U` add a row, `-U` and `-D` remove one row
//! equal to theirs. An index from row hash to positions makes each change O(1), so a
//! million changes stay fast.
//!
//! Row order is insertion order, kept stable for a grid: a `+U` takes the place of the `-U`
//! just before it (an updated aggregate stays on its line), and a removed row's place goes to
//! the last row (one row moves instead of every row after it).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use super::page::{Row, RowKind};

/// What one change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The row is at this position now.
    Stored(usize),
    /// An addition past the row cap: not stored.
    Dropped,
    /// A retraction that removed a row.
    Removed,
    /// A retraction with no equal row to remove.
    Unmatched,
}

pub struct MaterializedTable {
    rows: Vec<Row>,
    positions: HashMap<u64, Positions, BuildHasherDefault<PassThrough>>,
    hasher: RandomState,
    /// The place a `-U` emptied, for the `+U` that follows. The old row stays there (out of
    /// the index) until then; `settle` closes the place if no `+U` came.
    vacated: Option<usize>,
    row_cap: usize,
}

/// The positions of the rows with one hash: nearly always one row.
enum Positions {
    One(usize),
    Many(Vec<usize>),
}

impl MaterializedTable {
    pub fn new(row_cap: usize) -> Self {
        Self {
            rows: Vec::new(),
            positions: HashMap::default(),
            hasher: RandomState::new(),
            vacated: None,
            row_cap,
        }
    }

    /// The rows; exact once `settle` has run after the last change.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn apply(&mut self, kind: RowKind, row: Row) -> Applied {
        match (kind, self.vacated) {
            (RowKind::UpdateAfter, Some(place)) => {
                self.vacated = None;
                self.index(&row, place);
                self.rows[place] = row;
                Applied::Stored(place)
            }
            (RowKind::Insert | RowKind::UpdateAfter, _) => {
                self.settle();
                if self.rows.len() >= self.row_cap {
                    return Applied::Dropped;
                }
                self.index(&row, self.rows.len());
                self.rows.push(row);
                Applied::Stored(self.rows.len() - 1)
            }
            (RowKind::UpdateBefore | RowKind::Delete, _) => {
                self.settle();
                let Some(place) = self.unindex(&row) else {
                    return Applied::Unmatched;
                };
                if kind == RowKind::UpdateBefore {
                    self.vacated = Some(place);
                } else {
                    self.remove_at(place);
                }
                Applied::Removed
            }
        }
    }

    /// Closes the place a `-U` left when no `+U` took it.
    pub fn settle(&mut self) {
        if let Some(place) = self.vacated.take() {
            self.remove_at(place);
        }
    }

    fn hash(&self, row: &Row) -> u64 {
        self.hasher.hash_one(row)
    }

    fn index(&mut self, row: &Row, place: usize) {
        let hash = self.hash(row);
        self.positions
            .entry(hash)
            .and_modify(|positions| match positions {
                Positions::One(other) => *positions = Positions::Many(vec![*other, place]),
                Positions::Many(all) => all.push(place),
            })
            .or_insert(Positions::One(place));
    }

    /// Takes one row equal to `row` out of the index (the latest added) and returns its place.
    fn unindex(&mut self, row: &Row) -> Option<usize> {
        let hash = self.hash(row);
        let rows = &self.rows;
        let positions = self.positions.get_mut(&hash)?;
        match positions {
            Positions::One(place) => {
                let place = *place;
                (rows[place] == *row).then(|| {
                    self.positions.remove(&hash);
                    place
                })
            }
            Positions::Many(all) => {
                let at = all.iter().rposition(|&p| rows[p] == *row)?;
                let place = all.remove(at);
                if let &[only] = all.as_slice() {
                    *positions = Positions::One(only);
                }
                Some(place)
            }
        }
    }

    /// Removes the row at `place`, already out of the index; the last row moves there.
    fn remove_at(&mut self, place: usize) {
        let last = self.rows.len() - 1;
        if place != last {
            let hash = self.hash(&self.rows[last]);
            match self.positions.get_mut(&hash) {
                Some(Positions::One(p)) => *p = place,
                Some(Positions::Many(all)) => {
                    if let Some(p) = all.iter_mut().find(|p| **p == last) {
                        *p = place;
                    }
                }
                None => unreachable!("every stored row but a vacated one is indexed"),
            }
        }
        self.rows.swap_remove(place);
    }
}

/// The index keys are hashes already.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::value::SqlValue;

    fn row(key: &str, n: i64) -> Row {
        vec![SqlValue::String(key.into()), SqlValue::Integer(n)]
    }

    fn keys(table: &MaterializedTable) -> Vec<(String, i64)> {
        table
            .rows()
            .iter()
            .map(|r| match (&r[0], &r[1]) {
                (SqlValue::String(k), SqlValue::Integer(n)) => (k.clone(), *n),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn an_update_keeps_its_place() {
        let mut table = MaterializedTable::new(100);
        for (key, n) in [("a", 1), ("b", 1), ("c", 1)] {
            table.apply(RowKind::Insert, row(key, n));
        }
        assert_eq!(table.apply(RowKind::UpdateBefore, row("a", 1)), Applied::Removed);
        assert_eq!(table.apply(RowKind::UpdateAfter, row("a", 2)), Applied::Stored(0));
        table.settle();
        assert_eq!(keys(&table), [("a".into(), 2), ("b".into(), 1), ("c".into(), 1)]);
    }

    #[test]
    fn a_delete_moves_the_last_row_into_its_place() {
        let mut table = MaterializedTable::new(100);
        for (key, n) in [("a", 1), ("b", 1), ("c", 1), ("d", 1)] {
            table.apply(RowKind::Insert, row(key, n));
        }
        assert_eq!(table.apply(RowKind::Delete, row("b", 1)), Applied::Removed);
        assert_eq!(keys(&table), [("a".into(), 1), ("d".into(), 1), ("c".into(), 1)]);
        // The moved row is still found by its index entry.
        assert_eq!(table.apply(RowKind::Delete, row("d", 1)), Applied::Removed);
        assert_eq!(keys(&table), [("a".into(), 1), ("c".into(), 1)]);
    }

    #[test]
    fn duplicates_are_removed_one_at_a_time() {
        let mut table = MaterializedTable::new(100);
        for _ in 0..3 {
            table.apply(RowKind::Insert, row("x", 1));
        }
        table.apply(RowKind::Insert, row("y", 1));
        assert_eq!(table.apply(RowKind::Delete, row("x", 1)), Applied::Removed);
        assert_eq!(table.rows().len(), 3);
        assert_eq!(table.apply(RowKind::Delete, row("x", 1)), Applied::Removed);
        assert_eq!(table.apply(RowKind::Delete, row("x", 1)), Applied::Removed);
        assert_eq!(table.apply(RowKind::Delete, row("x", 1)), Applied::Unmatched);
        assert_eq!(keys(&table), [("y".into(), 1)]);
    }

    #[test]
    fn a_retraction_of_a_missing_row_changes_nothing() {
        let mut table = MaterializedTable::new(100);
        table.apply(RowKind::Insert, row("a", 1));
        assert_eq!(table.apply(RowKind::UpdateBefore, row("zz", 9)), Applied::Unmatched);
        // The +U without a matched -U is an insertion at the end.
        assert_eq!(table.apply(RowKind::UpdateAfter, row("zz", 10)), Applied::Stored(1));
        assert_eq!(keys(&table), [("a".into(), 1), ("zz".into(), 10)]);
    }

    #[test]
    fn a_dangling_update_before_is_settled() {
        let mut table = MaterializedTable::new(100);
        table.apply(RowKind::Insert, row("a", 1));
        table.apply(RowKind::Insert, row("b", 1));
        table.apply(RowKind::UpdateBefore, row("a", 1));
        table.settle();
        assert_eq!(keys(&table), [("b".into(), 1)]);
        // Two -U in a row: the first place is closed before the second is taken.
        table.apply(RowKind::Insert, row("c", 1));
        table.apply(RowKind::UpdateBefore, row("b", 1));
        table.apply(RowKind::UpdateBefore, row("c", 1));
        table.apply(RowKind::UpdateAfter, row("c", 2));
        table.settle();
        assert_eq!(keys(&table), [("c".into(), 2)]);
    }

    #[test]
    fn the_cap_drops_additions_but_not_updates() {
        let mut table = MaterializedTable::new(2);
        table.apply(RowKind::Insert, row("a", 1));
        table.apply(RowKind::Insert, row("b", 1));
        assert_eq!(table.apply(RowKind::Insert, row("c", 1)), Applied::Dropped);
        table.apply(RowKind::UpdateBefore, row("b", 1));
        assert_eq!(table.apply(RowKind::UpdateAfter, row("b", 2)), Applied::Stored(1));
        assert_eq!(keys(&table), [("a".into(), 1), ("b".into(), 2)]);
    }
}
