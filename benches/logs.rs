//! The log viewer's targets on a generated 1-million-line (~100 MB) TaskManager-style log:
//! open it and draw the first screen; a regex filter over the whole buffer; following
//! 10,000 new lines (one second at 10,000 lines/s) and drawing the frame, below the line cap,
//! at it, and in the one batch that crosses it.
//! Run: `cargo bench --bench logs`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use flinkdeck::logs::{DEFAULT_LINE_CAP, parse_records};
#[path = "../tests/common/sim.rs"]
mod sim;

use flinkdeck::tui::panes::logview::LogView;
use flinkdeck::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use sim::synthetic_log;

fn bench(c: &mut Criterion) {
    let log = synthetic_log(1_000_000, 0);
    eprintln!("log: {} MB", log.len() / 1_000_000);
    let theme = Theme::dark(false);
    let area = Rect::new(0, 0, 200, 50);
    let mut group = c.benchmark_group("log_1m_lines");
    group.sample_size(10);
    group.bench_function("open_and_first_screen", |b| {
        b.iter(|| {
            let records = parse_records(black_box(&log), 0);
            let view = LogView::new(
                "t".into(),
                "c".into(),
                "j".into(),
                records,
                None,
                DEFAULT_LINE_CAP,
                48,
            );
            let mut buffer = Buffer::empty(area);
            view.render(&theme, area, &mut buffer);
            black_box(buffer);
        })
    });
    let records = parse_records(&log, 0);
    let view =
        LogView::new("t".into(), "c".into(), "j".into(), records, None, DEFAULT_LINE_CAP, 48);
    group.bench_function("regex_filter_whole_buffer", |b| {
        b.iter_batched(
            || view.clone(),
            |mut v| {
                v.filter_in = Some(regex::Regex::new(r"FAILED|injected f\w+").unwrap());
                v.refilter();
                v
            },
            BatchSize::LargeInput,
        )
    });
    // Following: the tail task parses off the UI thread; the UI folds the parsed records in
    // and draws. Measured at the line cap (the buffer drops its oldest tenth) and below it.
    let second = parse_records(&synthetic_log(10_000, 2_000_000), 1_000_000);
    let warm = parse_records(&synthetic_log(10, 3_000_000), 1_010_000);
    // `crossing_the_cap` is the rare batch that fills the buffer: it drops the oldest tenth
    // (about 100,000 lines) at once; `at_the_cap` is every batch after that one.
    for label in ["at_the_cap", "below_the_cap", "crossing_the_cap"] {
        let mut base = view.clone();
        let refill = |base: &mut LogView, cap: usize, records| {
            base.buffer = flinkdeck::logs::LogBuffer::new(cap);
            base.buffer.push(records);
            base.refilter();
        };
        match label {
            "below_the_cap" => {
                refill(&mut base, DEFAULT_LINE_CAP * 2, parse_records(&log[..log.len() / 2], 0))
            }
            "crossing_the_cap" => {
                let cap = base.buffer.line_count() + 5_000;
                refill(&mut base, cap, parse_records(&log, 0));
            }
            _ => {}
        }
        group.bench_function(format!("fold_in_10k_lines_and_draw_{label}"), |b| {
            b.iter_batched(
                || {
                    // A clone has no spare capacity; a running viewer has (its buffers grew
                    // once and stay grown). One small append gives the clone the same.
                    let mut v = base.clone();
                    v.append(warm.clone());
                    (v, second.clone())
                },
                |(mut v, records)| {
                    v.append(records);
                    let mut buffer = Buffer::empty(area);
                    v.render(&theme, area, &mut buffer);
                    // Returned, so dropping the whole view is not part of the measurement.
                    (v, buffer)
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.bench_function("draw_one_frame", |b| {
        let mut buffer = Buffer::empty(area);
        b.iter(|| {
            buffer.reset();
            view.render(&theme, area, &mut buffer);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
