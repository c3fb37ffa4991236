//! Aligned plain-text tables for the human output of `jobs` and `clusters`.

use crate::fleet::{ClusterRecord, JobRecord};
use crate::format;

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 == widths.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

pub fn jobs(records: &[JobRecord]) -> String {
    let offset = format::local_offset();
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.cluster.clone(),
                r.id.clone(),
                if r.stale { format!("{}?", r.state) } else { r.state.clone() },
                format::timestamp(r.start_time, offset),
                format::duration(r.duration_ms),
                format::tasks(&r.tasks),
                r.name.clone(),
            ]
        })
        .collect();
    render(&["CLUSTER", "JOB ID", "STATE", "STARTED", "DURATION", "TASKS", "NAME"], &rows)
}

pub fn clusters(records: &[ClusterRecord]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.status.to_string(),
                r.flink_version.clone().unwrap_or_else(|| "-".into()),
                r.taskmanagers.to_string(),
                format!("{}/{}", r.slots_available, r.slots_total),
                r.jobs_total.to_string(),
                r.jobs_running.to_string(),
                r.url.clone(),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    render(
        &["CLUSTER", "STATUS", "VERSION", "TMS", "FREE/SLOTS", "JOBS", "RUNNING", "URL", "ERROR"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_lines_have_no_trailing_space() {
        let text =
            render(&["A", "LONG HEADER", "Z"], &[vec!["xxxx".into(), "y".into(), "".into()]]);
        assert_eq!(text, "A     LONG HEADER  Z\nxxxx  y\n");
    }
}
