//! The layout path against the typed Rust path on the largest sample,
//! `mfcclass.hie` (2,942 bytes, 137 objects): paired blocks in one process.
//!
//! `cargo run --release -p mfc-layout --example layout_vs_typed`
//! prints the median time per document of each path, alternating blocks of
//! documents (typed, layout to a JSON value, layout to JSON text), and the
//! ratios. `… -- only typed|layout|json N` decodes N documents one way and
//! nothing else, for instruction counts under callgrind.
#![allow(clippy::cast_precision_loss)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use mfc_archive::{Archive, MfcString, Options, Serialize, StringForm};
use mfc_layout::Layout;

#[derive(Debug, Serialize)]
struct LogFontHead {
    height: i32,
    width: i32,
    escapement: i32,
    orientation: i32,
    weight: i32,
    flags: [u8; 8],
}

#[derive(Debug, Serialize)]
#[mfc(class = "CServerNode", schema = 0)]
struct ServerNode {
    shape: u16,
    link_key: MfcString,
    description: MfcString,
    hide_children: u16,
    children: Vec<Option<Arc<ServerNode>>>,
}

#[derive(Debug, Serialize)]
struct HierDoc {
    font: LogFontHead,
    face_name: MfcString,
    text_color: u32,
    root: ServerNode,
}

fn typed(bytes: &[u8]) -> HierDoc {
    let options = Options {
        string_form: StringForm::Ansi,
        ..Options::default()
    };
    let mut ar = Archive::load_with(bytes, options);
    let doc: HierDoc = ar.read().expect("typed decode");
    ar.expect_end().expect("at the end");
    doc
}

fn decode(layout: &Layout, bytes: &[u8]) -> serde_json::Value {
    layout.decode(bytes).expect("layout decode")
}

fn json_text(layout: &Layout, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 << 10);
    layout
        .decode_to_writer(bytes, &mut out, false)
        .expect("JSON text");
    out
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let bytes = std::fs::read(format!("{root}/../shared/mfc-samples/mfcclass.hie"))
        .expect("../shared/mfc-samples/mfcclass.hie beside the checkout");
    let text =
        std::fs::read_to_string(format!("{root}/layouts/mfcclass.hie.toml")).expect("layout");
    let layout = Layout::parse(&text, "mfcclass.hie.toml").expect("layout parses");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [only, mode, n] = args.as_slice() {
        assert_eq!(only, "only");
        let n: usize = n.parse().expect("a count");
        for _ in 0..n {
            match mode.as_str() {
                "typed" => drop(black_box(typed(black_box(&bytes)))),
                "layout" => drop(black_box(decode(&layout, black_box(&bytes)))),
                "json" => drop(black_box(json_text(&layout, black_box(&bytes)))),
                other => panic!("unknown mode {other}"),
            }
        }
        return;
    }
    const BLOCK: usize = 500;
    const ROUNDS: usize = 15;
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..BLOCK {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / BLOCK as f64
    };
    let (mut t, mut l, mut j) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        t.push(time(&|| drop(black_box(typed(black_box(&bytes))))));
        l.push(time(&|| {
            drop(black_box(decode(&layout, black_box(&bytes))));
        }));
        j.push(time(&|| {
            drop(black_box(json_text(&layout, black_box(&bytes))));
        }));
    }
    let (t, l, j) = (median(t), median(l), median(j));
    let mb_per_s = |us: f64| bytes.len() as f64 / us;
    println!(
        "mfcclass.hie, {} bytes; median µs per document over {ROUNDS} rounds of {BLOCK}:",
        bytes.len()
    );
    println!("  typed           {t:8.1} µs  {:6.1} MB/s", mb_per_s(t));
    println!(
        "  layout -> value {l:8.1} µs  {:6.1} MB/s  {:.2}× typed",
        mb_per_s(l),
        l / t
    );
    println!(
        "  layout -> JSON  {j:8.1} µs  {:6.1} MB/s  {:.2}× typed",
        mb_per_s(j),
        j / t
    );
    println!(
        "  100 MB of such documents: typed {:.1} s, layout to JSON {:.1} s",
        1e8 / mb_per_s(t) / 1e6,
        1e8 / mb_per_s(j) / 1e6
    );
}
