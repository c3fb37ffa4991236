//! The catalog browser: catalogs, databases, tables, views, functions and a table's columns,
//! each level loaded when it is first opened (by SHOW / DESCRIBE through the gateway).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub use crate::gateway::catalog::{Children, Node, NodeKind};
use crate::tui::panes::pane_block;
use crate::tui::theme::{Role, Theme};

/// The mark drawn before a node of this kind.
fn icon(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Catalog => "◆",
        NodeKind::Database => "▣",
        NodeKind::Table => "▤",
        NodeKind::View => "▥",
        NodeKind::Function => "ƒ",
        NodeKind::Column => "·",
    }
}

/// The tree, kept flat in display order (children right after their parent).
#[derive(Debug, Clone, Default)]
pub struct CatalogTree {
    pub nodes: Vec<Node>,
    pub selected: usize,
    pub filter: String,
    pub editing_filter: bool,
    /// Why the catalogs themselves could not be listed.
    pub error: Option<String>,
    pub loading_root: bool,
}

impl CatalogTree {
    /// The nodes shown: those under expanded nodes; with a filter, every loaded node whose
    /// name contains it, and its ancestors. Linear: children follow their parent.
    pub fn visible(&self) -> Vec<usize> {
        if self.filter.is_empty() {
            let mut shown = Vec::new();
            // Below a collapsed node, everything deeper is hidden until the depth comes back.
            let mut hidden_below: Option<usize> = None;
            for (index, node) in self.nodes.iter().enumerate() {
                if hidden_below.is_some_and(|depth| node.depth() > depth) {
                    continue;
                }
                hidden_below = (!node.expanded).then(|| node.depth());
                shown.push(index);
            }
            return shown;
        }
        let needle = self.filter.to_lowercase();
        let wanted: std::collections::HashSet<&[String]> = self
            .nodes
            .iter()
            .filter(|n| n.name().to_lowercase().contains(&needle))
            .flat_map(|n| (1..=n.path.len()).map(|len| &n.path[..len]))
            .collect();
        (0..self.nodes.len()).filter(|&i| wanted.contains(self.nodes[i].path.as_slice())).collect()
    }

    pub fn selected_node(&self) -> Option<&Node> {
        self.visible().get(self.selected).map(|&i| &self.nodes[i])
    }

    pub fn move_by(&mut self, delta: isize) {
        let count = self.visible().len();
        if count == 0 {
            self.selected = 0;
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, count as isize - 1) as usize;
    }

    /// Replaces the root with the catalogs.
    pub fn set_catalogs(&mut self, names: Vec<String>) {
        self.loading_root = false;
        self.error = None;
        self.nodes =
            names.into_iter().map(|n| Node::new(NodeKind::Catalog, vec![n], None)).collect();
        self.selected = 0;
    }

    /// Opens the selected node: returns its path and kind when its children must be loaded.
    pub fn open_selected(&mut self) -> Option<(Vec<String>, NodeKind)> {
        let index = *self.visible().get(self.selected)?;
        let node = &mut self.nodes[index];
        if !node.kind.has_children() {
            return None;
        }
        node.expanded = true;
        match node.children {
            Children::NotLoaded | Children::Failed(_) => {
                node.children = Children::Loading;
                Some((node.path.clone(), node.kind))
            }
            Children::Loading | Children::Loaded => None,
        }
    }

    /// Collapses the selected node, or moves to its parent when it is already collapsed.
    pub fn close_selected(&mut self) {
        let visible = self.visible();
        let Some(&index) = visible.get(self.selected) else { return };
        if self.nodes[index].expanded {
            self.nodes[index].expanded = false;
            return;
        }
        let parent = &self.nodes[index].path[..self.nodes[index].path.len().saturating_sub(1)];
        if let Some(pos) = visible.iter().position(|&i| self.nodes[i].path == parent) {
            self.selected = pos;
        }
    }

    /// Puts loaded children under the node at `path` (replacing any earlier ones).
    pub fn set_children(&mut self, path: &[String], children: Result<Vec<Node>, String>) {
        let Some(index) = self.nodes.iter().position(|n| n.path == path) else { return };
        let end = self.nodes[index + 1..]
            .iter()
            .position(|n| !n.path.starts_with(path))
            .map_or(self.nodes.len(), |p| index + 1 + p);
        match children {
            Ok(children) => {
                self.nodes[index].children = Children::Loaded;
                self.nodes.splice(index + 1..end, children);
            }
            Err(error) => {
                self.nodes[index].children = Children::Failed(error);
                self.nodes.drain(index + 1..end);
            }
        }
    }

    /// Names worth completing: every loaded catalog object.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name().to_string()).collect()
    }

    pub fn render(&self, theme: &Theme, focused: bool, area: Rect, buf: &mut Buffer) {
        let mut title = vec![Span::styled(" Catalog ", theme.style(Role::Title))];
        if self.editing_filter || !self.filter.is_empty() {
            title.push(Span::styled(format!("/{} ", self.filter), theme.style(Role::Accent)));
        }
        let block = pane_block(theme, focused).title(Line::from(title));
        let inner = block.inner(area);
        block.render(area, buf);
        if let Some(error) = &self.error {
            Paragraph::new(Line::styled(error.clone(), theme.style(Role::Error)))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .render(inner, buf);
            return;
        }
        if self.nodes.is_empty() {
            let text = if self.loading_root { "loading…" } else { "no catalogs (r reloads)" };
            Line::styled(text, theme.style(Role::Muted)).render(inner, buf);
            return;
        }
        let visible = self.visible();
        let height = inner.height as usize;
        let top = self.selected.saturating_sub(height.saturating_sub(1));
        for (row, (pos, &index)) in visible.iter().enumerate().skip(top).take(height).enumerate() {
            let node = &self.nodes[index];
            let marker = match (&node.children, node.expanded, node.kind.has_children()) {
                (_, _, false) => " ",
                (Children::Loading, _, _) => "…",
                (Children::Failed(_), _, _) => "!",
                (_, true, _) => "▾",
                (_, false, _) => "▸",
            };
            let mut spans = vec![
                Span::raw("  ".repeat(node.depth())),
                Span::styled(format!("{marker}{} ", icon(node.kind)), theme.style(Role::Muted)),
                Span::styled(node.name().to_string(), theme.style(Role::Text)),
            ];
            if let Some(detail) = &node.detail {
                spans.push(Span::styled(format!(" {detail}"), theme.style(Role::SqlType)));
            }
            if let Children::Failed(error) = &node.children {
                spans.push(Span::styled(format!(" {error}"), theme.style(Role::Error)));
            }
            let mut line = Line::from(spans);
            if pos == self.selected && focused {
                line = line.patch_style(theme.style(Role::Selection));
            }
            let y = inner.y + row as u16;
            line.render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: NodeKind, path: &[&str]) -> Node {
        Node::new(kind, path.iter().map(|p| p.to_string()).collect(), None)
    }

    fn names(tree: &CatalogTree) -> Vec<&str> {
        tree.visible().into_iter().map(|i| tree.nodes[i].name()).collect()
    }

    #[test]
    fn opening_loads_once_collapsing_hides_and_a_filter_keeps_ancestors() {
        let mut tree = CatalogTree::default();
        tree.set_catalogs(vec!["cat".into(), "other".into()]);
        assert_eq!(tree.open_selected(), Some((vec!["cat".to_string()], NodeKind::Catalog)));
        assert_eq!(tree.open_selected(), None, "already loading");
        tree.set_children(&["cat".into()], Ok(vec![node(NodeKind::Database, &["cat", "db"])]));
        tree.move_by(1);
        tree.open_selected();
        tree.set_children(
            &["cat".into(), "db".into()],
            Ok(vec![
                node(NodeKind::Table, &["cat", "db", "orders"]),
                node(NodeKind::View, &["cat", "db", "big orders"]),
            ]),
        );
        assert_eq!(names(&tree), ["cat", "db", "orders", "big orders", "other"]);
        tree.selected = 0;
        tree.close_selected();
        assert_eq!(names(&tree), ["cat", "other"]);
        tree.filter = "big".into();
        assert_eq!(names(&tree), ["cat", "db", "big orders"]);
        let view = &tree.nodes[tree.visible()[2]];
        assert_eq!(view.sql_name(), "`cat`.`db`.`big orders`");
        tree.set_children(&["cat".into()], Err("no such catalog".into()));
        assert_eq!(tree.nodes.len(), 2, "a failed reload drops the old children");
        assert_eq!(tree.nodes[0].children, Children::Failed("no such catalog".into()));
    }
}
