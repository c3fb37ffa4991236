//! A message as the text lines a chat platform shows, summarised to fit its size limit:
//! whole lines only, never a split UTF-8 character.

use super::{Message, Status};

/// The lines of `message`: a header, its text, then one line per job.
fn header(message: &Message) -> Vec<String> {
    let status = match message.status {
        Status::Firing => "FIRING",
        Status::Resolved => "RESOLVED",
    };
    let cluster = message.cluster.as_deref().map(|c| format!(" on {c}")).unwrap_or_default();
    let mut lines = vec![format!("[{status}] {}{cluster}", message.rule)];
    lines.extend(message.text.lines().map(str::to_string));
    lines
}

/// `message` in at most `max_bytes` bytes: the header lines and as many jobs as fit, then
/// "… and N more jobs" for the rest.
pub fn render(message: &Message, max_bytes: usize) -> String {
    let jobs: Vec<String> =
        message.jobs.iter().map(|j| format!("- {} ({}): {}", j.name, j.id, j.state)).collect();
    let mut out = String::new();
    for line in header(message) {
        if !push_line(&mut out, &line, max_bytes) {
            return out;
        }
    }
    for (shown, job) in jobs.iter().enumerate() {
        let rest = jobs.len() - shown - 1;
        // Room for the summary line, with the widest count a usize can print.
        let more = if rest == 0 { 0 } else { "\n… and  more jobs".len() + 20 };
        if out.len() + 1 + job.len() + more > max_bytes {
            push_line(&mut out, &format!("… and {} more jobs", jobs.len() - shown), max_bytes);
            return out;
        }
        push_line(&mut out, job, max_bytes);
    }
    out
}

/// Appends `line` when it fits whole; says whether it did.
fn push_line(out: &mut String, line: &str, max_bytes: usize) -> bool {
    let separator = usize::from(!out.is_empty());
    if out.len() + separator + line.len() > max_bytes {
        return false;
    }
    if separator == 1 {
        out.push('\n');
    }
    out.push_str(line);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::MessageJob;

    fn thousand_jobs() -> Message {
        Message {
            key: "k".into(),
            status: Status::Firing,
            rule: "job-failed".into(),
            cluster: Some("prod".into()),
            jobs: (0..1000)
                .map(|i| MessageJob {
                    id: format!("{i:032x}"),
                    name: format!("作业-{i}"),
                    state: "FAILED".into(),
                })
                .collect(),
            text: "1000 jobs failed".into(),
        }
    }

    #[test]
    fn a_thousand_jobs_are_summarised_in_whole_lines_for_each_limit() {
        let message = thousand_jobs();
        for limit in [4_000, 18_000, 19_000] {
            let text = render(&message, limit);
            assert!(text.len() <= limit, "{limit}: {}", text.len());
            assert!(text.starts_with("[FIRING] job-failed on prod\n1000 jobs failed\n- 作业-0 "));
            let last = text.lines().last().unwrap();
            let shown = text.lines().filter(|l| l.starts_with("- ")).count();
            assert_eq!(last, format!("… and {} more jobs", 1000 - shown), "{limit}");
            assert!(text.lines().filter(|l| l.starts_with("- ")).all(|l| l.ends_with(": FAILED")));
        }
        assert_eq!(render(&message, 1_000_000).lines().count(), 1002);
    }
}
