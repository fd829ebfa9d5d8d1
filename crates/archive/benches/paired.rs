//! `mfc-archive`'s in-memory paths against their references, paired in one
//! process: each round runs one block of every variant of a comparison, in an
//! order that rotates from round to round, so that all of them see the same
//! machine load. Each variant's figure is the median over the rounds of its
//! CPU time per value (the thread's, so time the thread spends descheduled on
//! a shared machine does not count), and each ratio is the median of the
//! rounds' own ratios.
//!
//! ```sh
//! cargo bench -p mfc-archive --bench paired                    # 15 rounds
//! cargo bench -p mfc-archive --bench paired -- --rounds 31
//! cargo bench -p mfc-archive --bench paired -- --instructions  # callgrind
//! ```
//!
//! The comparisons:
//! - **log records** (`i64`, `u32`, `u16`, `u32`, `i32` and two strings, as an
//!   MFC service might log): 110,000 encoded into a `Vec<u8>` and decoded from
//!   a slice, with ANSI strings and with Unicode strings, against postcard;
//! - **`u32` values**, one `write` or `read` per value (4 Mi a block), against
//!   a minimal hand-written safe loop over a 4 KiB buffer; the archive's
//!   buffer is held at 4 KiB too.
//!
//! `--instructions` runs each variant's block under `valgrind
//! --tool=callgrind`, counting only inside the block, at two sizes (10,000 and
//! 30,000 records; 1 Mi and 3 Mi values), and prints the difference in
//! instructions over the difference in values, so that set-up and fixed costs
//! cancel. glibc's `rep movsb`/`rep stosb` copies are turned off for it:
//! callgrind counts each byte such an instruction moves as one instruction,
//! where the loop glibc uses instead counts as what it is.

// Lengths and counts here are small by construction.
#![allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]

use std::error::Error;
use std::hint::black_box;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use mfc_archive::{Archive, Options, StringForm};
use serde::{Deserialize, Serialize};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

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

/// `count` log records, the same ones on every run.
fn records(count: usize) -> Vec<LogRecord> {
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
    (0..count as u32)
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

/// What one block runs.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Variant {
    EncodeAnsi,
    EncodeUnicode,
    EncodePostcard,
    DecodeAnsi,
    DecodeUnicode,
    DecodePostcard,
    WriteArchive,
    WriteHand,
    ReadArchive,
    ReadHand,
}

impl Variant {
    const ALL: [Variant; 10] = [
        Variant::EncodeAnsi,
        Variant::EncodeUnicode,
        Variant::EncodePostcard,
        Variant::DecodeAnsi,
        Variant::DecodeUnicode,
        Variant::DecodePostcard,
        Variant::WriteArchive,
        Variant::WriteHand,
        Variant::ReadArchive,
        Variant::ReadHand,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::EncodeAnsi => "encode-archive-ansi",
            Variant::EncodeUnicode => "encode-archive-unicode",
            Variant::EncodePostcard => "encode-postcard",
            Variant::DecodeAnsi => "decode-archive-ansi",
            Variant::DecodeUnicode => "decode-archive-unicode",
            Variant::DecodePostcard => "decode-postcard",
            Variant::WriteArchive => "u32-write-archive",
            Variant::WriteHand => "u32-write-hand",
            Variant::ReadArchive => "u32-read-archive",
            Variant::ReadHand => "u32-read-hand",
        }
    }

    fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    fn is_records(self) -> bool {
        !matches!(
            self,
            Variant::WriteArchive | Variant::WriteHand | Variant::ReadArchive | Variant::ReadHand
        )
    }
}

/// Variants measured side by side; the first is the reference.
struct Comparison {
    title: &'static str,
    /// What one value is.
    per: &'static str,
    variants: &'static [Variant],
    /// Values in one timed block, and the two sizes for `--instructions`.
    block: usize,
    sizes: [usize; 2],
}

const COMPARISONS: [Comparison; 4] = [
    Comparison {
        title: "log records, encode",
        per: "record",
        variants: &[
            Variant::EncodePostcard,
            Variant::EncodeAnsi,
            Variant::EncodeUnicode,
        ],
        block: 110_000,
        sizes: [10_000, 30_000],
    },
    Comparison {
        title: "log records, decode",
        per: "record",
        variants: &[
            Variant::DecodePostcard,
            Variant::DecodeAnsi,
            Variant::DecodeUnicode,
        ],
        block: 110_000,
        sizes: [10_000, 30_000],
    },
    Comparison {
        title: "u32, one write per value",
        per: "value",
        variants: &[Variant::WriteHand, Variant::WriteArchive],
        block: 4 << 20,
        sizes: [1 << 20, 3 << 20],
    },
    Comparison {
        title: "u32, one read per value",
        per: "value",
        variants: &[Variant::ReadHand, Variant::ReadArchive],
        block: 4 << 20,
        sizes: [1 << 20, 3 << 20],
    },
];

/// A block's input, made before it runs.
struct Input {
    records: Vec<LogRecord>,
    ansi: Vec<u8>,
    unicode: Vec<u8>,
    postcard: Vec<u8>,
    /// The `u32`s written, 4 KiB of them, again and again.
    values: Vec<u32>,
}

impl Input {
    /// The input for `count` records (or none, for the `u32` variants).
    fn new(count: usize) -> Result<Input> {
        let records = records(count);
        let input = Input {
            ansi: encode(&records, ansi())?,
            unicode: encode(&records, Options::default())?,
            postcard: postcard::to_allocvec(&records)?,
            records,
            values: (0..1024).collect(),
        };
        // Every path decodes to the records it started from.
        if decode(&input.ansi, ansi())? != input.records
            || decode(&input.unicode, Options::default())? != input.records
            || postcard::from_bytes::<Vec<LogRecord>>(&input.postcard)? != input.records
        {
            return Err("a decoder lost a record".into());
        }
        Ok(input)
    }
}

fn ansi() -> Options {
    Options {
        string_form: StringForm::Ansi,
        ..Options::default()
    }
}

/// The archive's buffer held at 4 KiB, as the hand-written loops'.
fn four_kib() -> Options {
    Options {
        buffer_size: 4096,
        max_buffer_size: 4096,
        ..Options::default()
    }
}

fn encode(records: &[LogRecord], options: Options) -> mfc_archive::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut ar = Archive::store_with(&mut out, options);
    ar.write(records)?;
    ar.close()?;
    Ok(out)
}

fn decode(bytes: &[u8], options: Options) -> mfc_archive::Result<Vec<LogRecord>> {
    Archive::load_with(bytes, options).read()
}

/// A writer that keeps nothing, so that only the writing side's work counts.
struct Discard;

impl Write for Discard {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Ok(black_box(bytes).len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A reader that hands out the same 4 KiB of `u32`s forever.
///
/// They sit 2 KiB into an allocation of 8 KiB: glibc's `memcpy` copies 4 KiB
/// with `rep movsb`, which on this machine's CPU runs about 3 times slower
/// when the source and destination are less than 64 bytes apart modulo
/// 4 KiB, as a 4 KiB allocation and the archive's 4 KiB buffer allocated
/// right after it were (u32 reads: 2.0 ns a value, 0.7 with `rep movsb` off
/// by `GLIBC_TUNABLES`, same instructions). The copy is the reader's, not
/// the archive's; this keeps it out of the comparison.
struct Endless(Vec<u8>);

impl Endless {
    const AT: usize = 2048;

    fn new() -> Endless {
        let mut bytes = vec![0; 2 * 4096];
        for (i, chunk) in bytes[Self::AT..Self::AT + 4096]
            .chunks_exact_mut(4)
            .enumerate()
        {
            chunk.copy_from_slice(&(i as u32).to_le_bytes());
        }
        Endless(bytes)
    }
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(4096);
        buf[..n].copy_from_slice(&self.0[Self::AT..Self::AT + n]);
        Ok(n)
    }
}

/// Runs `variant` over `count` values of `input`. Named for callgrind's
/// `--toggle-collect`, which counts inside it only.
#[inline(never)]
fn block(variant: Variant, input: &Input, count: usize) -> Result<usize> {
    let out = match variant {
        Variant::EncodeAnsi => encode(&input.records, ansi())?.len(),
        Variant::EncodeUnicode => encode(&input.records, Options::default())?.len(),
        Variant::EncodePostcard => postcard::to_allocvec(&input.records)?.len(),
        Variant::DecodeAnsi => decode(&input.ansi, ansi())?.len(),
        Variant::DecodeUnicode => decode(&input.unicode, Options::default())?.len(),
        Variant::DecodePostcard => postcard::from_bytes::<Vec<LogRecord>>(&input.postcard)?.len(),
        Variant::WriteArchive => write_archive(&input.values, count)?,
        Variant::WriteHand => write_hand(&input.values, count)?,
        Variant::ReadArchive => read_archive(count)?,
        Variant::ReadHand => read_hand(count)?,
    };
    Ok(black_box(out))
}

// The `u32` loops each in a function of its own, so that how one compiles
// (inlining, registers) does not change with the code around another.

#[inline(never)]
fn write_archive(values: &[u32], count: usize) -> Result<usize> {
    let mut ar = Archive::store_with(Discard, four_kib());
    for _ in 0..count / values.len() {
        for value in values {
            ar.write(value)?;
        }
    }
    ar.close()?;
    Ok(count)
}

#[inline(never)]
fn write_hand(values: &[u32], count: usize) -> Result<usize> {
    let (mut buf, mut len, mut out) = ([0u8; 4096], 0, Discard);
    for _ in 0..count / values.len() {
        for value in values {
            if len + 4 > buf.len() {
                out.write_all(&buf[..len])?;
                len = 0;
            }
            buf[len..len + 4].copy_from_slice(&value.to_le_bytes());
            len += 4;
        }
    }
    out.write_all(&buf[..len])?;
    Ok(count)
}

#[inline(never)]
fn read_archive(count: usize) -> Result<usize> {
    let mut ar = Archive::load_with(Endless::new(), four_kib());
    let mut sum = 0u64;
    for _ in 0..count {
        sum += u64::from(ar.read::<u32>()?);
    }
    Ok(sum as usize)
}

#[inline(never)]
fn read_hand(count: usize) -> Result<usize> {
    let (mut buf, mut pos, mut end, mut source) = ([0u8; 4096], 0, 0, Endless::new());
    let mut sum = 0u64;
    for _ in 0..count {
        if end - pos < 4 {
            buf.copy_within(pos..end, 0);
            end -= pos;
            pos = 0;
            end += source.read(&mut buf[end..])?;
        }
        let mut value = [0; 4];
        value.copy_from_slice(&buf[pos..pos + 4]);
        pos += 4;
        sum += u64::from(u32::from_le_bytes(value));
    }
    Ok(sum as usize)
}

/// The CPU time this thread has used.
#[cfg(unix)]
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for clock_gettime(2) to fill in.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(result, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Elsewhere, wall-clock time since the first call.
#[cfg(not(unix))]
fn cpu_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU time per value of each variant, paired in alternating blocks.
fn time(rounds: usize) -> Result<()> {
    let input = Input::new(110_000)?;
    for comparison in &COMPARISONS {
        let variants = comparison.variants;
        let mut times = vec![Vec::with_capacity(rounds); variants.len()];
        // A round of warm-up, not counted.
        for round in 0..=rounds {
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                let start = cpu_time();
                block(variants[i], &input, comparison.block)?;
                let ns = (cpu_time() - start).as_nanos() as f64 / comparison.block as f64;
                if round > 0 {
                    times[i].push(ns);
                }
            }
        }
        println!(
            "{} ({} rounds; CPU ns per {}; ratios: median of the rounds')",
            comparison.title, rounds, comparison.per
        );
        let reference = variants[0].name();
        for (i, variant) in variants.iter().enumerate() {
            let mut ratios: Vec<f64> = (0..rounds).map(|r| times[0][r] / times[i][r]).collect();
            let ratio = median(&mut ratios);
            let (low, high) = (ratios[0], ratios[rounds - 1]);
            let ns = median(&mut times[i].clone());
            if i == 0 {
                println!("  {:<24} {ns:>8.2} ns", variant.name());
            } else {
                println!(
                    "  {:<24} {ns:>8.2} ns   {reference} / this = {ratio:.3} ({low:.3}–{high:.3}), this / {reference} = {:.3}",
                    variant.name(),
                    1.0 / ratio
                );
            }
        }
    }
    Ok(())
}

/// Instructions per value of each variant, from callgrind at two sizes.
fn instructions() -> Result<()> {
    let exe = std::env::current_exe()?;
    for comparison in &COMPARISONS {
        println!(
            "{} (instructions per {}: callgrind, {} minus {}, over the difference)",
            comparison.title, comparison.per, comparison.sizes[1], comparison.sizes[0]
        );
        let mut reference = None;
        for variant in comparison.variants {
            let mut counts = [0u64; 2];
            for (count, size) in counts.iter_mut().zip(comparison.sizes) {
                let run = Command::new("valgrind")
                    .args([
                        "--tool=callgrind",
                        "--toggle-collect=paired::block",
                        "--callgrind-out-file=/dev/null",
                    ])
                    .arg(&exe)
                    .args(["--block", variant.name(), "--count", &size.to_string()])
                    .env(
                        "GLIBC_TUNABLES",
                        "glibc.cpu.x86_rep_movsb_threshold=1000000000:\
                         glibc.cpu.x86_rep_stosb_threshold=1000000000",
                    )
                    .output()
                    .map_err(|err| format!("valgrind: {err} (is valgrind installed?)"))?;
                let report = String::from_utf8_lossy(&run.stderr);
                *count = report
                    .lines()
                    .find_map(|line| line.split("Collected :").nth(1))
                    .and_then(|n| n.trim().parse().ok())
                    .ok_or_else(|| {
                        format!("no count from valgrind for {}: {report}", variant.name())
                    })?;
            }
            let per =
                (counts[1] - counts[0]) as f64 / (comparison.sizes[1] - comparison.sizes[0]) as f64;
            match reference {
                None => {
                    println!("  {:<24} {per:>8.1}", variant.name());
                    reference = Some(per);
                }
                Some(base) => println!(
                    "  {:<24} {per:>8.1}   {} / this = {:.3}, this / {} = {:.3}",
                    variant.name(),
                    comparison.variants[0].name(),
                    base / per,
                    comparison.variants[0].name(),
                    per / base
                ),
            }
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut rounds, mut only, mut count, mut count_instructions) = (15, None, 0, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // What `cargo bench` passes to every bench.
            "--bench" => {}
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--instructions" => count_instructions = true,
            "--block" => {
                let name = args.next().ok_or("--block VARIANT")?;
                only = Some(Variant::from_name(&name).ok_or(format!("no variant {name}"))?);
            }
            "--count" => count = args.next().ok_or("--count N")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    match only {
        // One block, for callgrind.
        Some(variant) => {
            let input = Input::new(if variant.is_records() { count } else { 0 })?;
            block(variant, &input, count)?;
            Ok(())
        }
        None if count_instructions => instructions(),
        None => time(rounds),
    }
}
