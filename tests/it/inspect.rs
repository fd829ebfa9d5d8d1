//! `sockarc inspect` on the nine real MFC files: it finds every class name and
//! string that `../shared/mfc-samples/README.md` lists for each, with the
//! load-array indices the README gives, in text and JSON; and hostile input
//! gives output, not a panic.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{sample, SOCKARC};

fn inspect(args: &[&str]) -> String {
    let out = Command::new(SOCKARC)
        .arg("inspect")
        .args(args)
        .output()
        .expect("sockarc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// (file, class names, strings) as the samples' README lists them.
const SAMPLES: &[(&str, &[&str], &[&str])] = &[
    ("person.t", &["CPerson"], &["张三"]),
    (
        "test.16a",
        &["CStudent"],
        &[
            "Fisher, Lon",
            "Meyers, Lisa",
            "Seghers, John",
            "Anderson, Bob",
        ],
    ),
    ("MFCexp1", &["CLetter"], &[]),
    ("ThreeStrokes.SCB", &["CStroke"], &[]),
    ("Scribb1.SCB", &["CStroke"], &[]),
    (
        "mfcclass.hie",
        &["CServerNode"],
        &[
            "Arial",
            "%ROOT%",
            "MFC Class Hierarchy",
            "CArchive",
            "CArray",
        ],
    ),
    (
        "Demo.pad",
        &[
            "CMyStaticText",
            "CMyGroupBox",
            "CMyPicture",
            "CMyButton",
            "CMyAnimate",
            "CMyDateTime",
            "CMyIPAddress",
            "CMyMonthCal",
            "CMyComboBox",
        ],
        &[
            "Static",
            "C:\\\\_github\\\\MFC2019\\\\7실전프로젝트\\\\!Sources\\\\Media\\\\FILECOPY.avi",
        ],
    ),
    (
        "Test.wsp",
        &[
            "CDockState",
            "CObArray",
            "COXChildFrameState",
            "COXSplitterColRowState",
        ],
        &[
            "CWorkspaceTextDoc",
            "CWorkspaceGraphDoc",
            "CWorkspaceLengthView",
            "CWorkspaceTextView",
            "CWorkspaceGraphView",
        ],
    ),
    ("Graph1.gph", &[], &[]),
];

#[test]
fn every_class_and_string_the_readme_lists_is_found() {
    for (file, classes, strings) in SAMPLES {
        let text = inspect(&[&sample(file)]);
        let json = inspect(&["--json", &sample(file)]);
        for class in *classes {
            assert!(
                text.contains(&format!(" {class} (schema")),
                "{file}: class {class}\n{text}"
            );
            assert!(
                json.contains(&format!("\"name\": \"{class}\"")),
                "{file}: class {class}"
            );
        }
        for string in *strings {
            // Shown escaped: a backslash is doubled, in text and JSON alike.
            assert!(
                text.contains(&format!("\"{string}\"")),
                "{file}: string {string}\n{text}"
            );
            assert!(
                json.contains(&format!("\"text\": \"{string}\"")),
                "{file}: string {string}"
            );
        }
    }
}

#[test]
fn the_load_array_indices_are_the_readmes() {
    // Test.wsp: 1 class CDockState, 2 its object, 3 class CObArray, 4 its
    // object, 5 class COXChildFrameState, 12 class COXSplitterColRowState,
    // 20 the last CObArray.
    let text = inspect(&[&sample("Test.wsp")]);
    for line in [
        "class #1 CDockState (schema 0), new, object #2?",
        "class #3 CObArray (schema 0), new, object #4?",
        "class #5 COXChildFrameState (schema 1), new, object #6?",
        "class #12 COXSplitterColRowState (schema 1), new, object #13?",
        "class ref #3 CObArray, object #20",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    // test.16a: objects 2..5, the last three through class references.
    let text = inspect(&[&sample("test.16a")]);
    assert!(text.contains("class ref #1 CStudent, object #5"), "{text}");
    // mfcclass.hie: 136 tagged objects, indices 2..137.
    let text = inspect(&[&sample("mfcclass.hie")]);
    assert!(
        text.contains("class ref #1 CServerNode, object #137"),
        "{text}"
    );
    assert!(!text.contains("object #138"), "{text}");
}

#[test]
fn an_offset_starts_inside_the_file_and_hex_shows_the_bytes() {
    // person.t from its string on: offset 13.
    let text = inspect(&["--offset", "13", "--hex", &sample("person.t")]);
    assert_eq!(
        text,
        "0000000d  string \"张三\" (Unicode)  | ff fe ff 02 20 5f 09 4e\n\
         00000015  5 bytes not placed  | 17 00 00 00 4d\n"
    );
}

#[test]
fn hostile_input_from_standard_input_is_shown_not_a_panic() {
    // Truncated tags, huge lengths, then a megabyte of FF.
    let mut bytes = b"\xFF\xFF\x01\x00\xFF\xFF\xFF\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F".to_vec();
    bytes.extend(std::iter::repeat_n(0xFF, 1 << 20));
    let mut child = Command::new(SOCKARC)
        .args(["inspect", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("bytes not placed  | ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff …\n"), "{text}");
}

#[test]
fn an_offset_past_the_end_says_so() {
    let out = Command::new(SOCKARC)
        .args(["inspect", "--offset", "100", &sample("Graph1.gph")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--offset 100 is past the end of ") && stderr.ends_with("(8 bytes)\n"),
        "{stderr}"
    );
}

/// `--json` is JSON to a parser no one here wrote (Python's), for every sample.
// Unix only: it runs Linux's python3, which a Windows process under Wine cannot start.
#[cfg(unix)]
#[test]
fn the_json_parses_for_every_sample() {
    for (file, _, _) in SAMPLES {
        let json = inspect(&["--json", "--hex", &sample(file)]);
        let mut python = Command::new("python3")
            .args([
                "-c",
                "import json, sys; items = json.load(sys.stdin); print(len(items))",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        python
            .stdin
            .take()
            .unwrap()
            .write_all(json.as_bytes())
            .unwrap();
        let out = python.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let items: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert_eq!(items, json.matches("\"offset\"").count(), "{file}");
    }
}

/// The README's two `inspect` outputs are the program's, line for line.
#[test]
fn the_readme_shows_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for file in ["person.t", "test.16a"] {
        let heading = format!("`{file}` (a");
        let at = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("README shows {file}"));
        let start = at + readme[at..].find("```text\n").unwrap() + "```text\n".len();
        let shown = &readme[start..start + readme[start..].find("```").unwrap()];
        let printed = inspect(&[&sample(file)]);
        assert!(
            printed.starts_with(shown),
            "{file}: README:\n{shown}\nprinted:\n{printed}"
        );
    }
}
