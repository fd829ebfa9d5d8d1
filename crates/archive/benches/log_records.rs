//! Encode and decode about 10 MB of log-like records (strings and integers) with
//! this crate and with postcard, side by side, then print the median ratios.
//!
//! `cargo bench -p mfc-archive`
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use mfc_archive::{Archive, Options, StringForm};
use serde::{Deserialize, Serialize};

/// One log line, as an MFC service might archive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, mfc_archive::Serialize)]
struct LogRecord {
    timestamp: i64,
    sequence: u32,
    level: u16,
    thread: u32,
    code: i32,
    source: String,
    message: String,
}

fn records() -> Vec<LogRecord> {
    let sources = [
        "CChatSrvrDoc",
        "CListeningSocket",
        "CClientSocket",
        "CMainFrame",
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..110_000u32)
        .map(|i| {
            let r = next();
            LogRecord {
                timestamp: 1_587_217_662 + i64::from(i),
                sequence: i,
                level: (r % 5) as u16,
                thread: (r >> 8) as u32 % 64,
                code: (r >> 16) as i32,
                source: sources[(r % 4) as usize].to_owned(),
                message: format!(
                    "client {} sent {} bytes in message {i}",
                    r % 1000,
                    (r >> 20) % 70_000
                ),
            }
        })
        .collect()
}

fn ansi() -> Options {
    Options {
        string_form: StringForm::Ansi,
        ..Options::default()
    }
}

fn archive_encode(records: &[LogRecord], options: Options) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ar = Archive::store_with(&mut out, options);
    ar.write(records).expect("encode");
    ar.close().expect("close");
    out
}

fn archive_decode(bytes: &[u8], options: Options) -> Vec<LogRecord> {
    Archive::load_with(bytes, options).read().expect("decode")
}

fn main() {
    let records = records();
    let ansi_bytes = archive_encode(&records, ansi());
    let unicode_bytes = archive_encode(&records, Options::default());
    let postcard_bytes = postcard::to_allocvec(&records).expect("postcard encode");
    assert_eq!(archive_decode(&ansi_bytes, ansi()), records);
    assert_eq!(archive_decode(&unicode_bytes, Options::default()), records);
    eprintln!(
        "{} records: CArchive ANSI {} bytes, CArchive Unicode {} bytes, postcard {} bytes",
        records.len(),
        ansi_bytes.len(),
        unicode_bytes.len(),
        postcard_bytes.len()
    );

    let mut c = Criterion::default().configure_from_args();
    let mut encode = c.benchmark_group("encode");
    encode.throughput(Throughput::Elements(records.len() as u64));
    encode.bench_function("mfc-archive-ansi", |b| {
        b.iter(|| archive_encode(black_box(&records), ansi()));
    });
    encode.bench_function("mfc-archive-unicode", |b| {
        b.iter(|| archive_encode(black_box(&records), Options::default()));
    });
    encode.bench_function("postcard", |b| {
        b.iter(|| postcard::to_allocvec(black_box(&records)));
    });
    encode.finish();

    let mut decode = c.benchmark_group("decode");
    decode.throughput(Throughput::Elements(records.len() as u64));
    decode.bench_function("mfc-archive-ansi", |b| {
        b.iter(|| archive_decode(black_box(&ansi_bytes), ansi()));
    });
    decode.bench_function("mfc-archive-unicode", |b| {
        b.iter(|| archive_decode(black_box(&unicode_bytes), Options::default()));
    });
    decode.bench_function("postcard", |b| {
        b.iter(|| postcard::from_bytes::<Vec<LogRecord>>(black_box(&postcard_bytes)));
    });
    decode.finish();
    c.final_summary();

    for group in ["encode", "decode"] {
        let Some(postcard) = median_ns(group, "postcard") else {
            continue;
        };
        for ours in ["mfc-archive-ansi", "mfc-archive-unicode"] {
            if let Some(time) = median_ns(group, ours) {
                println!(
                    "{group}: {ours} {:.2} ms, postcard {:.2} ms, postcard/ours = {:.2}",
                    time / 1e6,
                    postcard / 1e6,
                    postcard / time
                );
            }
        }
    }
}

/// The median criterion recorded for `group/name` in this run.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}
