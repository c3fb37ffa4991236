//! The SQL result grid's target: 1,000,000 changelog rows of an unbounded aggregation
//! (`SELECT user, COUNT(*), SUM(amount), MAX(ts) FROM orders GROUP BY user` over 50,000 users:
//! a `+I` for a new user, then a `-U`/`+U` pair per update) fed to a `ResultSet` in pages of
//! 5,000 rows, the gateway's result buffer. Target: at least 200,000 rows/s.
//! Also the same rows decoded from their JSON pages first, the changelog view, and the
//! workbench's path: both views fed at once, and one page folded in plus a frame drawn.
//! Run: `cargo bench --bench sql_grid`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flinkdeck::gateway::{
    Change, Column, ResultPage, ResultSet, ResultType, ResultView, Row, RowKind, SqlType, SqlValue,
    TypeKind,
};
use flinkdeck::tui::theme::Theme;
use flinkdeck::tui::workbench::results::Results;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::json;

const CHANGES: usize = 1_000_000;
const USERS: u64 = 50_000;
const PAGE_ROWS: usize = 5_000;
/// The workbench's default `[ui] sql_row_cap`.
const ROW_CAP: usize = 100_000;

fn columns() -> Vec<Column> {
    let column = |name: &str, kind| Column {
        name: name.into(),
        sql_type: SqlType::new(kind, true),
        comment: None,
    };
    vec![
        column("user", TypeKind::VarChar { length: i32::MAX as u32 }),
        column("orders", TypeKind::BigInt),
        column("amount", TypeKind::Decimal { precision: 20, scale: 2 }),
        column("last_order", TypeKind::Timestamp { precision: 3 }),
    ]
}

/// The aggregation's changelog, deterministic.
fn changelog() -> Vec<Change> {
    // Per user: orders, cents, and the row last emitted (what its `-U` must repeat).
    let mut state: Vec<Option<(i64, i64, Row)>> = vec![None; USERS as usize];
    let mut changes = Vec::with_capacity(CHANGES);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    while changes.len() < CHANGES {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let user = (seed % USERS) as usize;
        let cents = (seed >> 20) as i64 % 10_000;
        let second = changes.len();
        let (orders, total) = state[user].as_ref().map_or((0, 0), |(o, t, _)| (*o, *t));
        let (orders, total) = (orders + 1, total + cents);
        let row = vec![
            SqlValue::String(format!("user-{user:05}")),
            SqlValue::Integer(orders),
            SqlValue::Decimal(format!("{}.{:02}", total / 100, total % 100)),
            SqlValue::Timestamp(format!(
                "2024-05-01 12:{:02}:{:02}.123",
                second / 60 % 60,
                second % 60
            )),
        ];
        match state[user].replace((orders, total, row.clone())) {
            None => changes.push(Change { kind: RowKind::Insert, values: row }),
            Some((_, _, before)) => {
                changes.push(Change { kind: RowKind::UpdateBefore, values: before });
                changes.push(Change { kind: RowKind::UpdateAfter, values: row });
            }
        }
    }
    changes.truncate(CHANGES);
    changes
}

fn pages(changes: &[Change]) -> Vec<ResultPage> {
    changes
        .chunks(PAGE_ROWS)
        .map(|chunk| ResultPage {
            result_type: ResultType::Payload,
            is_query_result: Some(true),
            job_id: None,
            result_kind: None,
            columns: columns(),
            changes: chunk.to_vec(),
            next_uri: Some("/v4/sessions/s/operations/o/result/1?rowFormat=JSON".into()),
        })
        .collect()
}

/// The pages as the gateway sends them (`rowFormat=JSON`).
fn json_pages(changes: &[Change]) -> Vec<Vec<u8>> {
    fn column(name: &str, logical_type: serde_json::Value) -> serde_json::Value {
        json!({ "name": name, "logicalType": logical_type, "comment": null })
    }
    let columns = json!([
        column("user", json!({"type": "VARCHAR", "nullable": true, "length": i32::MAX})),
        column("orders", json!({"type": "BIGINT", "nullable": true})),
        column("amount", json!({"type": "DECIMAL", "nullable": true, "precision": 20, "scale": 2})),
        column(
            "last_order",
            json!({"type": "TIMESTAMP_WITHOUT_TIME_ZONE", "nullable": true, "precision": 3}),
        ),
    ]);
    changes
        .chunks(PAGE_ROWS)
        .map(|chunk| {
            let mut data = String::new();
            for (i, change) in chunk.iter().enumerate() {
                let fields: Vec<String> = change.values.iter().map(SqlValue::to_json).collect();
                let comma = if i > 0 { "," } else { "" };
                let kind = serde_json::to_string(&change.kind).unwrap();
                data.push_str(&format!(
                    r#"{comma}{{"kind":{kind},"fields":[{}]}}"#,
                    fields.join(",")
                ));
            }
            // Built as text: a `serde_json::Value` would round the DECIMAL numbers.
            let envelope = json!({
                "resultType": "PAYLOAD",
                "isQueryResult": true,
                "resultKind": "SUCCESS_WITH_CONTENT",
                "jobID": "0c2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f",
                "results": {"columns": columns, "rowFormat": "JSON", "data": "DATA"},
                "nextResultUri": "/v4/sessions/s/operations/o/result/1?rowFormat=JSON",
            });
            envelope.to_string().replace(r#""DATA""#, &format!("[{data}]")).into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let changes = changelog();
    let mut group = c.benchmark_group("sql_grid_1m_changes");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CHANGES as u64));

    let table = |pages: Vec<ResultPage>| {
        let mut result = ResultSet::new(ResultView::Table, 1_000_000);
        for page in pages {
            result.push_page(page);
        }
        assert!(result.len() as u64 <= USERS && result.unmatched_retractions() == 0);
        black_box(result)
    };
    group.bench_function("table_view", |b| {
        b.iter_batched(|| pages(&changes), table, BatchSize::LargeInput)
    });
    group.bench_function("changelog_view_capped_at_100k", |b| {
        b.iter_batched(
            || pages(&changes),
            |pages| {
                let mut result = ResultSet::new(ResultView::Changelog, 100_000);
                for page in pages {
                    result.push_page(page);
                }
                black_box(result)
            },
            BatchSize::LargeInput,
        )
    });
    let bodies = json_pages(&changes);
    eprintln!("JSON pages: {} MB", bodies.iter().map(Vec::len).sum::<usize>() / 1_000_000);
    group.bench_function("decode_json_pages_then_table_view", |b| {
        b.iter(|| {
            let pages =
                bodies.iter().map(|body| ResultPage::from_json(black_box(body)).unwrap()).collect();
            table(pages)
        })
    });
    // The workbench keeps both views (the changelog capped) and draws after each batch.
    group.bench_function("workbench_results_both_views", |b| {
        b.iter_batched(
            || pages(&changes),
            |pages| {
                let mut results = Results::new("SELECT …".into(), 0, ROW_CAP);
                results.set_columns(columns());
                for page in pages {
                    results.push(page.changes);
                }
                black_box(results)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();

    // A frame while 1M rows stream in: one more page folded into a grid that already holds
    // the aggregation's 50,000 rows, then the workbench drawn at 200x50.
    let mut frames = c.benchmark_group("sql_grid_streaming_frame");
    let all = pages(&changes);
    let (warm, tail) = all.split_at(all.len() - 20);
    let mut results = Results::new("SELECT …".into(), 0, ROW_CAP);
    results.set_columns(columns());
    for page in warm {
        results.push(page.changes.clone());
    }
    let theme = Theme::dark(false);
    let area = Rect::new(0, 0, 200, 50);
    let mut buffer = Buffer::empty(area);
    let mut next = tail.iter().cycle();
    frames.bench_function("fold_in_5000_rows_and_draw_200x50", |b| {
        b.iter(|| {
            results.push(next.next().unwrap().changes.clone());
            buffer.reset();
            results.render(&theme, true, 1_000, area, &mut buffer);
        })
    });
    frames.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
