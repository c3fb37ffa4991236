//! The catalog as the SQL worker lists it: catalogs, databases, tables, views, functions and a
//! table's columns, each node with what the workbench's tree needs to show and open it.

use crate::sql::quote_identifier;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Catalog,
    Database,
    Table,
    View,
    Function,
    Column,
}

impl NodeKind {
    /// Whether opening it lists something.
    pub fn has_children(self) -> bool {
        matches!(self, NodeKind::Catalog | NodeKind::Database | NodeKind::Table | NodeKind::View)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Children {
    NotLoaded,
    Loading,
    Loaded,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// The name parts from the catalog down: `[catalog, database, table]`.
    pub path: Vec<String>,
    /// A column's type, shown beside its name.
    pub detail: Option<String>,
    pub expanded: bool,
    pub children: Children,
}

impl Node {
    pub fn new(kind: NodeKind, path: Vec<String>, detail: Option<String>) -> Self {
        Self { kind, path, detail, expanded: false, children: Children::NotLoaded }
    }

    pub fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    pub fn depth(&self) -> usize {
        self.path.len().saturating_sub(1)
    }

    /// The name to insert into SQL: qualified and backquoted where needed; a column by itself.
    pub fn sql_name(&self) -> String {
        match self.kind {
            NodeKind::Column | NodeKind::Function => quote_identifier(self.name()),
            _ => self.path.iter().map(|p| quote_identifier(p)).collect::<Vec<_>>().join("."),
        }
    }
}
