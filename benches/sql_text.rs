//! The SQL workbench's text work on a generated 2,000-line Flink SQL script (tables with
//! watermarks, window TVF inserts, MATCH_RECOGNIZE, statement sets): highlighting it whole
//! (target: under 20 ms), re-highlighting after an edit as the editor does every frame, and
//! splitting it into statements. Run: `cargo bench --bench sql_text`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use flinkdeck::sql::{HighlightCache, SqlHighlighter, split, statement_at};

const LINES: usize = 2_000;

/// One group of statements, numbered `n`, of the kinds a Flink SQL script holds.
fn statement_group(n: usize) -> String {
    format!(
        r#"-- orders feed #{n}: Kafka, event time with a 5 s watermark
CREATE TEMPORARY TABLE IF NOT EXISTS orders_{n} (
  order_id BIGINT,
  customer_id STRING,
  `user` STRING COMMENT 'the customer''s login',
  price DECIMAL(10, 2),
  quantity INT,
  tags ARRAY<STRING>,
  attributes MAP<STRING, STRING>,
  shipping ROW<city STRING, zip VARCHAR(10)>,
  total AS price * quantity,
  order_time TIMESTAMP(3),
  kafka_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  proc AS PROCTIME(),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND,
  PRIMARY KEY (order_id) NOT ENFORCED
) PARTITIONED BY (customer_id) WITH (
  'connector' = 'kafka',
  'topic' = 'orders-{n}',
  'properties.bootstrap.servers' = 'kafka:9092',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);

SET 'pipeline.name' = 'revenue-{n}';

/* Per-minute revenue; the hint overrides the source's start offset. */
INSERT INTO revenue_per_minute
SELECT window_start, window_end, customer_id, SUM(price * quantity) AS revenue, COUNT(*) AS orders
FROM TABLE(
  TUMBLE(TABLE orders_{n} /*+ OPTIONS('scan.startup.mode'='latest-offset') */, DESCRIPTOR(order_time), INTERVAL '1' MINUTES))
WHERE price > 0.5 AND customer_id <> '' AND CURRENT_WATERMARK(order_time) IS NOT NULL
GROUP BY window_start, window_end, customer_id;

SELECT *
FROM orders_{n}
  MATCH_RECOGNIZE (
    PARTITION BY customer_id
    ORDER BY order_time
    MEASURES
      FIRST(A.order_time) AS start_time,
      LAST(B.order_time) AS end_time,
      AVG(B.price) AS avg_price
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (A B+ C) WITHIN INTERVAL '1' HOUR
    DEFINE
      B AS B.price < A.price,
      C AS C.price > LAST(B.price) * 1.1e0
  ) AS t;

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO hourly SELECT window_start, COUNT(*) FROM TABLE(HOP(TABLE orders_{n}, DESCRIPTOR(order_time), INTERVAL '5' MINUTES, INTERVAL '1' HOUR)) GROUP BY window_start, window_end;
  INSERT INTO daily SELECT window_start, SUM(price) FROM TABLE(CUMULATE(TABLE orders_{n}, DESCRIPTOR(order_time), INTERVAL '1' HOUR, INTERVAL '1' DAY)) GROUP BY window_start, window_end;
END;

CREATE VIEW big_orders_{n} AS SELECT order_id, TO_TIMESTAMP_LTZ(order_id, 3) AS ts, JSON_VALUE(customer_id, '$.name') FROM orders_{n} WHERE quantity >= 100;
"#
    )
}

fn script() -> String {
    let mut script = String::new();
    let mut n = 0;
    while script.lines().count() < LINES {
        script.push_str(&statement_group(n));
        n += 1;
    }
    script
}

fn bench(c: &mut Criterion) {
    let script = script();
    let lines: Vec<String> = script.split('\n').map(str::to_owned).collect();
    eprintln!("script: {} lines, {} KB", lines.len(), script.len() / 1000);
    let highlighter = SqlHighlighter::new();
    let first = Instant::now();
    black_box(highlighter.highlight(&script));
    eprintln!("first highlight, compiling the grammar's patterns: {:?}", first.elapsed());

    let mut group = c.benchmark_group("sql_text_2000_lines");
    group.bench_function("highlight_whole_script", |b| {
        b.iter(|| highlighter.highlight(black_box(&script)))
    });

    // The editor's frame: the cache is up to date but for one line, typed into (alternating
    // between two versions of it so every iteration is an edit).
    let mut cache = HighlightCache::new();
    cache.update(&lines);
    let middle = lines.len() / 2;
    let mut edited = lines.clone();
    edited[middle].push_str(" x");
    eprintln!("editing line {middle} highlights {} lines again", cache.update(&edited));
    let versions = [&edited, &lines];
    let mut turn = 0;
    group.bench_function("rehighlight_after_editing_one_line", |b| {
        b.iter(|| {
            turn += 1;
            cache.update(versions[turn % 2])
        })
    });
    group.bench_function("update_without_edits", |b| b.iter(|| cache.update(black_box(&lines))));

    // Opening a block comment before a CREATE TABLE in the middle turns what follows into
    // comment up to the next `*/` (each group of statements has one), so those lines are
    // highlighted again. With no `*/` below, it would be every line below: at most the
    // whole-script time above.
    let table = middle + lines[middle..].iter().position(|l| l.starts_with("CREATE")).unwrap();
    let mut commented = lines.clone();
    commented[table].insert_str(0, "/* ");
    eprintln!("opening the comment highlights {} lines again", cache.update(&commented));
    cache.update(&lines);
    let versions = [&commented, &lines];
    group.bench_function("rehighlight_after_opening_a_block_comment", |b| {
        b.iter(|| {
            turn += 1;
            cache.update(versions[turn % 2])
        })
    });

    group.bench_function("split_whole_script", |b| b.iter(|| split(black_box(&script))));
    let cursor = script.len() / 2;
    group.bench_function("statement_at_middle", |b| {
        b.iter(|| statement_at(black_box(&script), cursor))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
