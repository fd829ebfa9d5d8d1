//! Properties: arbitrary values survive store -> load at any buffer size, and
//! arbitrary bytes never panic a loader, whatever it is asked to read.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::sync::Arc;

use mfc_archive::{
    Archive, Bool, MfcString, ObjectRef, Options, Point, Rect, Serialize, Time, TimeSpan,
};
use proptest::prelude::*;

use crate::common::Script;

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Record {
    byte: u8,
    flag: bool,
    win_flag: Bool,
    word: u16,
    short: i16,
    dword: u32,
    long: i32,
    qword: u64,
    longlong: i64,
    float: f32,
    double: f64,
    point: Point,
    rect: Rect,
    time: Time,
    span: TimeSpan,
    ansi: MfcString,
    wide: MfcString,
    text: String,
    list: Vec<u32>,
    pairs: Vec<(u16, MfcString)>,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CTreeNode", schema = 3)]
struct TreeNode {
    value: i32,
    children: Vec<Option<Arc<TreeNode>>>,
}

fn mfc_string() -> impl Strategy<Value = MfcString> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600).prop_map(MfcString::ansi),
        prop::collection::vec(any::<u16>(), 0..600).prop_map(MfcString::from_utf16),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        (
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
            any::<u16>(),
            any::<i16>(),
            any::<u32>(),
            any::<i32>(),
        ),
        (
            any::<u64>(),
            any::<i64>(),
            any::<f32>(),
            any::<f64>(),
            any::<(i32, i32)>(),
            any::<[i32; 4]>(),
        ),
        (
            any::<i64>(),
            (i64::from(i32::MIN)..=i64::from(u32::MAX)),
            mfc_string(),
            mfc_string(),
            ".{0,300}",
        ),
        (
            prop::collection::vec(any::<u32>(), 0..300),
            prop::collection::vec((any::<u16>(), mfc_string()), 0..8),
        ),
    )
        .prop_map(
            |(
                (byte, flag, win, word, short, dword, long),
                (qword, longlong, float, double, p, r),
                (time, span, ansi, wide, text),
                (list, pairs),
            )| Record {
                byte,
                flag,
                win_flag: Bool::from(win),
                word,
                short,
                dword,
                long,
                qword,
                longlong,
                float,
                double,
                point: Point { x: p.0, y: p.1 },
                rect: Rect {
                    left: r[0],
                    top: r[1],
                    right: r[2],
                    bottom: r[3],
                },
                time: Time::new(time),
                span: TimeSpan(if span > i64::from(i32::MAX) {
                    i64::from(span as u32 as i32)
                } else {
                    span
                }),
                ansi,
                wide,
                text,
                list,
                pairs,
            },
        )
}

/// Compares floats by bits, so NaN payloads count as equal when preserved.
fn same(a: &Record, b: &Record) -> bool {
    a.float.to_bits() == b.float.to_bits()
        && a.double.to_bits() == b.double.to_bits()
        && Record {
            float: 0.0,
            double: 0.0,
            ..a.clone()
        } == Record {
            float: 0.0,
            double: 0.0,
            ..b.clone()
        }
}

fn tree(depth: u32) -> impl Strategy<Value = TreeNode> {
    let leaf = any::<i32>().prop_map(|value| TreeNode {
        value,
        children: Vec::new(),
    });
    leaf.prop_recursive(depth, 64, 4, |inner| {
        (
            any::<i32>(),
            prop::collection::vec(prop::option::of(inner.prop_map(Arc::new)), 0..4),
        )
            .prop_map(|(value, children)| TreeNode { value, children })
    })
}

fn same_tree(a: &TreeNode, b: &TreeNode) -> bool {
    a.value == b.value
        && a.children.len() == b.children.len()
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => same_tree(x, y),
                (None, None) => true,
                _ => false,
            })
}

proptest! {
    #[test]
    fn records_round_trip_at_any_buffer_size(records in prop::collection::vec(record(), 1..6), buffer_size in 0usize..600) {
        let options = Options { buffer_size, ..Options::default() };
        let mut bytes = Vec::new();
        let mut ar = Archive::store_with(&mut bytes, options);
        for r in &records {
            ar.write(r).unwrap();
        }
        ar.close().unwrap();
        let mut ar = Archive::load_with(&bytes[..], options);
        for r in &records {
            let back: Record = ar.read().unwrap();
            prop_assert!(same(r, &back), "{r:?} != {back:?}");
        }
        prop_assert!(ar.is_buffer_empty());
    }

    #[test]
    fn object_trees_round_trip(root in tree(5)) {
        let root: Option<Arc<TreeNode>> = Some(Arc::new(root));
        let mut bytes = Vec::new();
        let mut ar = Archive::store(&mut bytes);
        ar.write(&root).unwrap();
        ar.close().unwrap();
        let back: Option<Arc<TreeNode>> = Archive::load(&bytes[..]).read().unwrap();
        prop_assert!(same_tree(root.as_ref().unwrap(), back.as_ref().unwrap()));
    }

    #[test]
    fn counts_round_trip(count in prop_oneof![0u64..0x20000, any::<u64>()]) {
        let mut bytes = Vec::new();
        let mut ar = Archive::store(&mut bytes);
        ar.write_count(count).unwrap();
        ar.close().unwrap();
        prop_assert_eq!(Archive::load(&bytes[..]).read_count().unwrap(), count);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), seed in prop::collection::vec(any::<u8>(), 0..400)) {
        // A prefix that makes object paths likely: a CTreeNode class description.
        let mut input = b"\xFF\xFF\x03\x00\x09\x00CTreeNode".to_vec();
        input.extend_from_slice(&seed);
        for bytes in [&bytes, &input] {
            let mut ar = Archive::load(&bytes[..]);
            ar.register::<TreeNode>();
            for _ in 0..64 {
                let step = match ar.offset() % 5 {
                    0 => ar.read::<Record>().map(drop),
                    1 => ar.read::<Option<ObjectRef>>().map(drop),
                    2 => ar.read::<Vec<MfcString>>().map(drop),
                    3 => ar.read_class().map(drop),
                    _ => ar.read::<Option<Arc<TreeNode>>>().map(drop),
                };
                if step.is_err() {
                    break;
                }
            }
        }
    }
}

type Message = (u32, MfcString, Option<ObjectRef>);

/// Messages numbered in order, with `texts`, each naming one of three shared
/// objects (or none) by `picks`, so later messages hold back-references into
/// the index space of earlier ones; and their bytes.
fn messages_of(texts: &[String], picks: &[usize]) -> (Vec<Message>, Vec<u8>) {
    let pool: Vec<ObjectRef> = (0..3)
        .map(|v| {
            Arc::new(TreeNode {
                value: v,
                children: Vec::new(),
            }) as ObjectRef
        })
        .collect();
    let messages: Vec<Message> = texts
        .iter()
        .zip(picks)
        .enumerate()
        .map(|(i, (text, &pick))| (i as u32, MfcString::unicode(text), pool.get(pick).cloned()))
        .collect();
    let mut bytes = Vec::new();
    let mut ar = Archive::store(&mut bytes);
    for (n, text, object) in &messages {
        ar.write(n).unwrap();
        ar.write(text).unwrap();
        ar.write(object).unwrap();
    }
    ar.close().unwrap();
    (messages, bytes)
}

/// `got` are `messages` loaded: the same numbers and texts, and messages that
/// named the same object load the same object.
fn assert_same_messages(messages: &[Message], got: &[Message]) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), messages.len());
    for ((n, text, object), (m, back, loaded)) in messages.iter().zip(got) {
        prop_assert_eq!((n, text), (m, back));
        prop_assert_eq!(object.is_some(), loaded.is_some());
    }
    for (i, a) in messages.iter().enumerate() {
        for (j, b) in messages.iter().enumerate() {
            if let ((_, _, Some(x)), (_, _, Some(y))) = (a, b) {
                let (lx, ly) = (got[i].2.as_ref().unwrap(), got[j].2.as_ref().unwrap());
                prop_assert_eq!(Arc::ptr_eq(x, y), Arc::ptr_eq(lx, ly));
            }
        }
    }
    Ok(())
}

fn read_one(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Message> {
    Ok((ar.read()?, ar.read()?, ar.read()?))
}

proptest! {
    #[test]
    fn messages_split_anywhere_arrive_whole_and_in_order(
        texts in prop::collection::vec(".{0,40}", 1..12),
        picks in prop::collection::vec(0usize..4, 12),
        cuts in prop::collection::vec(1usize..64, 1..40),
        buffer_size in 0usize..300,
    ) {
        let (messages, bytes) = messages_of(&texts, &picks);

        let options = Options { buffer_size, ..Options::default() };
        let mut ar = Archive::load_with(Script::arrivals(), options);
        ar.register::<TreeNode>();
        let mut got: Vec<Message> = Vec::new();
        let mut rest = &bytes[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() || got.len() < messages.len() {
            let take = (*cut.next().unwrap()).min(rest.len());
            ar.get_mut().push(&rest[..take]);
            rest = &rest[take..];
            while let Some(message) = ar.read_message(read_one).unwrap() {
                got.push(message);
            }
            prop_assert!(take > 0 || got.len() == messages.len(), "stuck with {} of {} messages", got.len(), messages.len());
        }
        assert_same_messages(&messages, &got)?;
    }
}

/// Reads a `T`, again after every time-out (at most `limit` times).
fn read_retrying<T: mfc_archive::Load>(
    ar: &mut mfc_archive::LoadArchive<Script>,
    limit: usize,
) -> mfc_archive::Result<T> {
    for _ in 0..limit {
        match ar.read::<T>() {
            Err(mfc_archive::Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::TimedOut => {}
            other => return other,
        }
    }
    panic!("still timing out after {limit} tries");
}

proptest! {
    #[test]
    fn values_cut_by_time_outs_anywhere_are_read_whole_when_tried_again(
        texts in prop::collection::vec(".{0,40}", 1..12),
        picks in prop::collection::vec(0usize..4, 12),
        cuts in prop::collection::vec(1usize..64, 1..40),
        buffer_size in 0usize..300,
    ) {
        let (messages, bytes) = messages_of(&texts, &picks);

        let mut pieces: Vec<&[u8]> = Vec::new();
        let mut rest = &bytes[..];
        for &cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, after) = rest.split_at(cut.min(rest.len()));
            pieces.push(piece);
            rest = after;
        }
        let limit = pieces.len() + 2;
        let options = Options { buffer_size, ..Options::default() };
        let mut ar = Archive::load_with(Script::pausing(std::io::ErrorKind::TimedOut, &pieces), options);
        ar.register::<TreeNode>();
        let mut got: Vec<Message> = Vec::new();
        for _ in &messages {
            got.push((
                read_retrying(&mut ar, limit).unwrap(),
                read_retrying(&mut ar, limit).unwrap(),
                read_retrying(&mut ar, limit).unwrap(),
            ));
        }
        prop_assert_eq!(ar.offset(), bytes.len() as u64);
        assert_same_messages(&messages, &got)?;
    }
}
