//! `sockarc decode` and `sockarc encode` on the nine real MFC files with the
//! layouts in `layouts/`: each decodes to the values
//! `../shared/mfc-samples/README.md` gives, and its JSON encodes back to the
//! file's exact bytes.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::{sample, SOCKARC};

fn layout(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/layouts/").to_owned() + name + ".toml"
}

/// `sockarc decode --layout layouts/NAME.toml SAMPLE`, parsed.
fn decode(name: &str) -> Value {
    let out = Command::new(SOCKARC)
        .args(["decode", "--layout", &layout(name), &sample(name)])
        .output()
        .expect("sockarc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON on standard output")
}

/// `sockarc encode --layout layouts/NAME.toml -` with `json` on standard input.
fn encode(name: &str, json: &Value) -> Vec<u8> {
    let mut child = Command::new(SOCKARC)
        .args(["encode", "--layout", &layout(name), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockarc starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(json.to_string().as_bytes())
        .expect("JSON written");
    drop(stdin);
    let out = child.wait_with_output().expect("sockarc ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    out.stdout
}

/// Decodes a sample, checks that its JSON encodes to the file's bytes, and
/// returns the JSON.
fn round_trip(name: &str) -> Value {
    let json = decode(name);
    let original = std::fs::read(sample(name)).expect("the sample");
    assert!(
        encode(name, &json) == original,
        "{name}: encodes to other bytes"
    );
    json
}

fn texts(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[field].as_str().expect("text").to_owned())
        .collect()
}

#[test]
fn person_t() {
    let json = round_trip("person.t");
    assert_eq!(
        json["person"],
        json!({ "$class": "CPerson", "$schema": 1, "$index": 2, "name": "张三", "age": 23, "sex": "M" })
    );
}

#[test]
fn test_16a() {
    let students = &round_trip("test.16a")["students"];
    assert_eq!(
        texts(students, "name"),
        [
            "Fisher, Lon",
            "Meyers, Lisa",
            "Seghers, John",
            "Anderson, Bob"
        ]
    );
    let grades: Vec<&Value> = students
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["grade"])
        .collect();
    assert_eq!(grades, [&json!(67), &json!(80), &json!(92), &json!(87)]);
    let indices: Vec<&Value> = students
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["$index"])
        .collect();
    assert_eq!(indices, [&json!(2), &json!(3), &json!(4), &json!(5)]);
}

#[test]
fn mfcexp1() {
    let letters = round_trip("MFCexp1")["letters"].as_array().unwrap().clone();
    assert_eq!(letters.len(), 22);
    assert_eq!(
        letters[0],
        json!({ "$class": "CLetter", "$schema": 1, "$index": 2, "letter": "m", "x": 273, "y": 145 })
    );
    assert_eq!(
        (&letters[21]["x"], &letters[21]["y"], &letters[21]["$index"]),
        (&json!(355), &json!(133), &json!(23))
    );
}

#[test]
fn three_strokes_scb() {
    let strokes = round_trip("ThreeStrokes.SCB")["strokes"]
        .as_array()
        .unwrap()
        .clone();
    let summary: Vec<(Value, Value, usize, Value)> = strokes
        .iter()
        .map(|s| {
            let points = s["points"].as_array().unwrap();
            (
                s["$index"].clone(),
                s["pen_width"].clone(),
                points.len(),
                points[0].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!(2), json!(2), 135, json!({ "x": 75, "y": 37 })),
            (json!(3), json!(2), 96, json!({ "x": 76, "y": 86 })),
            (json!(4), json!(2), 60, json!({ "x": 107, "y": 124 })),
        ]
    );
}

#[test]
fn scribb1_scb() {
    let json = round_trip("Scribb1.SCB");
    assert_eq!(json["size"], json!({ "cx": 800, "cy": 900 }));
    let strokes = json["strokes"].as_array().unwrap();
    let points: Vec<usize> = strokes
        .iter()
        .map(|s| s["points"].as_array().unwrap().len())
        .collect();
    assert_eq!(points, [4, 65, 13, 2]);
    assert_eq!(strokes[0]["$schema"], json!(2));
    assert_eq!(
        strokes[0]["bounds"],
        json!({ "left": 207, "top": -165, "right": 212, "bottom": -169 })
    );
}

#[test]
fn mfcclass_hie() {
    let json = round_trip("mfcclass.hie");
    assert_eq!(
        (
            &json["font"]["height"],
            &json["face_name"],
            &json["text_color"]
        ),
        (&json!(-10), &json!("Arial"), &json!(9))
    );
    let root = &json["root"];
    assert_eq!(root["description"], json!("MFC Class Hierarchy"));
    assert_eq!(root["link_key"], json!("%ROOT%"));
    assert_eq!(root["children"].as_array().unwrap().len(), 26);
    assert_eq!(root["children"][0]["description"], json!("CArchive"));
    // 136 tagged nodes with indices 2..=137, 8 levels counting the root.
    fn walk(node: &Value, depth: usize, indices: &mut Vec<u64>, deepest: &mut usize) {
        *deepest = (*deepest).max(depth);
        for child in node["children"].as_array().unwrap() {
            indices.push(child["$index"].as_u64().unwrap());
            walk(child, depth + 1, indices, deepest);
        }
    }
    let (mut indices, mut deepest) = (Vec::new(), 0);
    walk(root, 1, &mut indices, &mut deepest);
    indices.sort_unstable();
    assert_eq!(indices, (2..=137).collect::<Vec<u64>>());
    assert_eq!(deepest, 8);
}

#[test]
fn demo_pad() {
    let json = round_trip("Demo.pad");
    assert_eq!(json["count"], json!(9));
    let controls = json["controls"].as_array().unwrap();
    let classes: Vec<&str> = controls
        .iter()
        .map(|c| c["class"]["$class"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        [
            "CMyStaticText",
            "CMyGroupBox",
            "CMyPicture",
            "CMyButton",
            "CMyAnimate",
            "CMyDateTime",
            "CMyIPAddress",
            "CMyMonthCal",
            "CMyComboBox"
        ]
    );
    assert_eq!(
        controls[0]["body"],
        json!({ "web_link": false, "caption": "Static" })
    );
    assert_eq!(
        controls[4]["body"]["path"],
        json!("C:\\_github\\MFC2019\\7실전프로젝트\\!Sources\\Media\\FILECOPY.avi")
    );
    // The 64-bit CTime with its marker: 2020-04-18 13:47:42 UTC.
    assert_eq!(
        controls[5]["body"],
        json!({ "alarm": false, "alarm_time": 1_587_217_662 })
    );
    assert_eq!(controls[7]["body"], json!({ "no_today": true }));
}

#[test]
fn test_wsp() {
    let json = round_trip("Test.wsp");
    assert_eq!(
        (&json["magic"], &json["screen"]),
        (&json!(0x1234_FEDC), &json!({ "cx": 1024, "cy": 768 }))
    );
    let dock = &json["dock_state"];
    assert_eq!(
        (&dock["$class"], &dock["$index"], &dock["version"]),
        (&json!("CDockState"), &json!(2), &json!(2))
    );
    assert_eq!(dock["bars"].as_array().unwrap().len(), 7);
    assert_eq!(dock["bars"][3]["bar_ids"], json!([0, 0xE800, 0, 0xE804, 0]));
    let frames = json["child_frames"]["items"].as_array().unwrap();
    assert_eq!(json["child_frames"]["$index"], json!(4));
    let pairs: Vec<(String, String)> = frames
        .iter()
        .map(|f| {
            (
                f["document_class"].as_str().unwrap().into(),
                f["view_class"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("CWorkspaceTextDoc".into(), "CWorkspaceLengthView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceTextView".into()),
            ("CWorkspaceGraphDoc".into(), "CWorkspaceGraphView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceTextView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceLengthView".into()),
        ]
    );
    let splitters: Vec<(Value, Value, Value, Value)> = frames[2]["splitters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["$index"].clone(),
                s["row"].clone(),
                s["col_row_index"].clone(),
                s["ideal_size"].clone(),
            )
        })
        .collect();
    assert_eq!(
        splitters,
        [
            (json!(13), json!(true), json!(0), json!(240)),
            (json!(14), json!(false), json!(0), json!(179)),
            (json!(15), json!(false), json!(1), json!(470)),
        ]
    );
    assert_eq!(json["bar_to_tab"], json!([]));
    assert_eq!(
        json["splitter_panes"],
        json!({ "$class": "CObArray", "$schema": 0, "$index": 20, "items": [] })
    );
}

#[test]
fn graph1_gph() {
    assert_eq!(round_trip("Graph1.gph"), json!({ "color": 0, "sides": 3 }));
}

#[test]
fn an_edited_value_is_written_and_a_wrong_file_is_refused_with_its_place() {
    let mut json = decode("test.16a");
    json["students"][1]["grade"] = json!(81);
    let bytes = encode("test.16a", &json);
    let original = std::fs::read(sample("test.16a")).unwrap();
    // Meyers, Lisa's grade is the DWORD after her name: 2 + 14 + 12 + 4 + 2 + 13 = 47.
    let changed: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i] != original[i])
        .collect();
    assert_eq!(
        (bytes.len(), changed, bytes[47]),
        (original.len(), vec![47], 81)
    );

    // test.16a read with MFCexp1's layout: the class tag names CStudent where
    // CLetter is due; the message names the layout line and the byte.
    let out = Command::new(SOCKARC)
        .args([
            "decode",
            "--layout",
            &layout("MFCexp1"),
            &sample("test.16a"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("MFCexp1.toml:7: field document.letters: bad class at byte 2")
            && stderr.contains("found class \"CStudent\""),
        "{stderr}"
    );
}

/// The README's walk from an unknown file to JSON shows the layout in
/// `layouts/` and the first lines `sockarc decode` prints.
#[test]
fn the_readme_walkthrough_shows_real_files_and_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let layout_text = std::fs::read_to_string(layout("test.16a")).unwrap();
    assert!(
        readme.contains(&format!("```toml\n{layout_text}```")),
        "README shows layouts/test.16a.toml"
    );
    let start = readme.find("```json\n").expect("a JSON block") + "```json\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = Command::new(SOCKARC)
        .args([
            "decode",
            "--layout",
            &layout("test.16a"),
            &sample("test.16a"),
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        printed.starts_with(shown),
        "README:\n{shown}\nprinted:\n{printed}"
    );
}
