//! The nine files in `../shared/mfc-samples`, written by real MFC programs: each
//! decodes to exactly end of file with its writer's layout (declared here with the
//! object API and the derive), holds the values the samples' README gives, and
//! re-encodes to identical bytes.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

// The shared helpers, of which this binary uses two. It is a binary of its
// own because the files it reads sit outside the repository (../shared), so
// the published package leaves it out.
#[allow(dead_code)]
#[path = "it/common/mod.rs"]
mod common;

use std::sync::Arc;

use common::assert_at_end;
use mfc_archive::collections::ObArray;
use mfc_archive::{
    Archive, Bool, DockState, Load, LoadArchive, MfcString, ObjectRef, Options, Point, Rect,
    SerialClass, Serialize, Size, Store, Time,
};

fn sample(name: &str) -> Vec<u8> {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/mfc-samples/").to_owned() + name;
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (../shared must sit beside the checkout)"))
}

/// Loads `T` from a sample with every buffer size from MFC's minimum up, checks it
/// ends exactly at end of file, and checks that storing it gives the same bytes.
fn decode<T: Load + Store>(
    name: &str,
    expected_len: usize,
    register: fn(&mut LoadArchive<&[u8]>),
) -> T {
    let bytes = sample(name);
    assert_eq!(bytes.len(), expected_len, "{name} size");
    let mut decoded = None;
    for buffer_size in [128, 333, 4096] {
        let options = Options {
            buffer_size,
            ..Options::default()
        };
        let mut ar = Archive::load_with(&bytes[..], options);
        register(&mut ar);
        let value: T = ar.read().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_at_end(&mut ar);
        decoded = Some(value);
    }
    let value = decoded.expect("decoded at least once");
    assert!(
        common::stored(|ar| ar.write(&value)) == bytes,
        "{name} re-encodes to different bytes"
    );
    value
}

fn text(s: &MfcString) -> String {
    s.to_string_lossy().into_owned()
}

/// A whole file that is one top-level `WriteObject` (`ar << pOb`).
#[derive(Debug)]
struct OneObject<T>(Option<Arc<T>>);

impl<T: SerialClass> Store for OneObject<T> {
    fn store(&self, ar: &mut mfc_archive::Storing<'_>) -> mfc_archive::Result<()> {
        ar.write(&self.0)
    }
}

impl<T: SerialClass> Load for OneObject<T> {
    fn load(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Self> {
        Ok(OneObject(ar.read()?))
    }
}

// 1. person.t -----------------------------------------------------------------

#[derive(Debug, Serialize)]
#[mfc(class = "CPerson", schema = 1)]
struct Person {
    name: MfcString,
    age: i32,
    sex: u8,
}

#[test]
fn person_t_one_unicode_object() {
    let file: OneObject<Person> = decode("person.t", 26, |ar| {
        ar.register::<Person>();
    });
    let person = file.0.expect("an object");
    assert!(person.name.is_unicode());
    assert_eq!(
        (text(&person.name).as_str(), person.age, person.sex),
        ("张三", 23, b'M')
    );
}

// 2. test.16a -----------------------------------------------------------------

#[derive(Debug, Serialize)]
#[mfc(class = "CStudent", schema = 0)]
struct Student {
    name: MfcString,
    grade: i32,
}

#[test]
fn test_16a_typed_ptr_list_of_students() {
    // CStudentDoc::Serialize: m_studentList.Serialize(ar), a CTypedPtrList<CObList, CStudent*>.
    let list: Vec<Option<Arc<Student>>> = decode("test.16a", 91, |ar| {
        ar.register::<Student>();
    });
    let students: Vec<_> = list
        .iter()
        .flatten()
        .map(|s| (text(&s.name), s.grade))
        .collect();
    assert_eq!(
        students,
        [
            ("Fisher, Lon".to_owned(), 67),
            ("Meyers, Lisa".to_owned(), 80),
            ("Seghers, John".to_owned(), 92),
            ("Anderson, Bob".to_owned(), 87),
        ]
    );
}

// 3. MFCexp1 ------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[mfc(class = "CLetter", schema = 1)]
struct Letter {
    letter: u8,
    x: i32,
    y: i32,
}

#[test]
fn mfcexp1_22_letters() {
    let list: Vec<Option<Arc<Letter>>> = decode("MFCexp1", 255, |ar| {
        ar.register::<Letter>();
    });
    let letters: Vec<_> = list.iter().flatten().collect();
    assert_eq!(letters.len(), 22);
    assert!(letters.iter().all(|l| l.letter == b'm'));
    assert_eq!((letters[0].x, letters[0].y), (273, 145));
    assert_eq!((letters[21].x, letters[21].y), (355, 133));
}

// 4. ThreeStrokes.SCB ---------------------------------------------------------

/// Scribble step 1: `(WORD)m_nPenWidth`, then `CArray<CPoint, CPoint>`.
#[derive(Debug, Serialize)]
#[mfc(class = "CStroke", schema = 1)]
struct Stroke1 {
    pen_width: u16,
    points: Vec<Point>,
}

#[test]
fn three_strokes_scb_carray_of_cpoint() {
    let strokes: Vec<Option<Arc<Stroke1>>> = decode("ThreeStrokes.SCB", 2359, |ar| {
        ar.register::<Stroke1>();
    });
    let strokes: Vec<_> = strokes.iter().flatten().collect();
    assert_eq!(
        strokes.iter().map(|s| s.points.len()).collect::<Vec<_>>(),
        [135, 96, 60]
    );
    assert!(strokes.iter().all(|s| s.pen_width == 2));
    let firsts: Vec<_> = strokes.iter().map(|s| s.points[0]).collect();
    assert_eq!(
        firsts,
        [
            Point { x: 75, y: 37 },
            Point { x: 76, y: 86 },
            Point { x: 107, y: 124 }
        ]
    );
}

// 5. Scribb1.SCB --------------------------------------------------------------

/// Scribble step 5: schema 2 adds the bounding rectangle.
#[derive(Debug, Serialize)]
#[mfc(class = "CStroke", schema = 2)]
struct Stroke5 {
    bounds: Rect,
    pen_width: u16,
    points: Vec<Point>,
}

#[derive(Debug, Serialize)]
struct ScribbleDoc {
    size: Size,
    strokes: Vec<Option<Arc<Stroke5>>>,
}

#[test]
fn scribb1_scb_csize_crect_and_schema_2() {
    let doc: ScribbleDoc = decode("Scribb1.SCB", 781, |ar| {
        ar.register::<Stroke5>();
    });
    assert_eq!(doc.size, Size { cx: 800, cy: 900 });
    let strokes: Vec<_> = doc.strokes.iter().flatten().collect();
    assert_eq!(
        strokes.iter().map(|s| s.points.len()).collect::<Vec<_>>(),
        [4, 65, 13, 2]
    );
    assert_eq!(
        strokes[0].bounds,
        Rect {
            left: 207,
            top: -165,
            right: 212,
            bottom: -169
        }
    );
}

#[test]
fn scribb1_scb_is_bad_schema_for_the_step_1_class() {
    let bytes = sample("Scribb1.SCB");
    let mut ar = Archive::load(&bytes[..]);
    ar.register::<Stroke1>();
    let err = ar.read::<(Size, Vec<Option<Arc<Stroke1>>>)>().unwrap_err();
    assert!(
        matches!(
            err,
            mfc_archive::Error::BadSchema {
                expected: 1,
                found: 2,
                offset: 10,
                ..
            }
        ),
        "{err}"
    );
}

// 6. mfcclass.hie -------------------------------------------------------------

/// HierSvr's node: shape, link key, description, hide flag, then a `CObList` of
/// children (recursion through objects).
#[derive(Debug, Serialize)]
#[mfc(class = "CServerNode", schema = 0)]
struct ServerNode {
    shape: u16,
    link: MfcString,
    description: MfcString,
    hide_children: u16,
    children: Vec<Option<Arc<ServerNode>>>,
}

#[derive(Debug, Serialize)]
struct HierDoc {
    /// `ar.Write(&m_logfont, sizeof(LOGFONT) - sizeof(lfFaceName))`.
    logfont: [u8; 28],
    face_name: MfcString,
    text_color: u32,
    /// `m_pRoot->Serialize(ar)`: written directly, no tag.
    root: ServerNode,
}

fn count_and_depth(node: &ServerNode) -> (usize, usize) {
    node.children
        .iter()
        .flatten()
        .fold((0, 1), |(count, depth), child| {
            let (c, d) = count_and_depth(child);
            (count + 1 + c, depth.max(d + 1))
        })
}

#[test]
fn mfcclass_hie_recursive_tree() {
    // The typed child lists name CServerNode, so it needs no registration.
    let doc: HierDoc = decode("mfcclass.hie", 2942, |_| {});
    assert_eq!(
        i32::from_le_bytes(doc.logfont[..4].try_into().unwrap()),
        -10
    );
    assert_eq!((doc.logfont[26], doc.logfont[27]), (2, 0x22));
    assert_eq!(
        (text(&doc.face_name).as_str(), doc.text_color),
        ("Arial", 9)
    );
    assert_eq!(
        (
            text(&doc.root.link).as_str(),
            text(&doc.root.description).as_str()
        ),
        ("%ROOT%", "MFC Class Hierarchy")
    );
    assert_eq!(doc.root.children.len(), 26);
    assert_eq!(
        text(&doc.root.children[0].as_ref().unwrap().description),
        "CArchive"
    );
    assert_eq!(count_and_depth(&doc.root), (136, 8));
}

// 9. Graph1.gph ---------------------------------------------------------------

#[derive(Debug, Serialize)]
struct GraphDoc {
    color: u32,
    sides: i32,
}

#[test]
fn graph1_gph_primitives_only() {
    let doc: GraphDoc = decode("Graph1.gph", 8, |_| {});
    assert_eq!((doc.color, doc.sides), (0, 3));
    // The same through from_slice, which insists on every byte being used.
    let doc: GraphDoc = mfc_archive::from_slice(&sample("Graph1.gph")).unwrap();
    assert_eq!((doc.color, doc.sides), (0, 3));
    let mut longer = sample("Graph1.gph");
    longer.push(0);
    let err = mfc_archive::from_slice::<GraphDoc>(&longer).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at byte 8: expected the end of the input, found more bytes"
    );
}

// 7. Demo.pad -----------------------------------------------------------------

#[derive(Debug, Serialize)]
#[mfc(class = "CMyStaticText", schema = 1)]
struct StaticText {
    web_link: Bool,
    caption: MfcString,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyGroupBox", schema = 1)]
struct GroupBox {
    caption: MfcString,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyPicture", schema = 1)]
struct Picture {
    path: MfcString,
    action: i32,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyButton", schema = 1)]
struct Button {
    caption: MfcString,
    path: MfcString,
    action: i32,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyAnimate", schema = 1)]
struct Animate {
    path: MfcString,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyDateTime", schema = 1)]
struct DateTime {
    alarm: Bool,
    time: Time,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyIPAddress", schema = 1)]
struct IpAddress {
    text: MfcString,
    combo: i32,
    action: i32,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyMonthCal", schema = 1)]
struct MonthCal {
    no_today: Bool,
}

#[derive(Debug, Serialize)]
#[mfc(class = "CMyComboBox", schema = 1)]
struct ComboBox {
    name: MfcString,
}

/// `CFormPadDoc::Serialize`: the view's `CRect`, an `int` count, then per control
/// `WriteClass`, its `CRect`, and its own `Serialize` (no object index).
#[derive(Debug)]
struct FormPadDoc {
    view: Rect,
    controls: Vec<(Rect, ObjectRef)>,
}

impl Store for FormPadDoc {
    fn store(&self, ar: &mut mfc_archive::Storing<'_>) -> mfc_archive::Result<()> {
        ar.write(&self.view)?;
        ar.write(&(self.controls.len() as i32))?;
        for (rect, control) in &self.controls {
            ar.write_class(&control.runtime_class())?;
            ar.write(rect)?;
            control.store_body(ar)?;
        }
        Ok(())
    }
}

impl Load for FormPadDoc {
    fn load(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Self> {
        let view = ar.read()?;
        let count: i32 = ar.read()?;
        let mut controls = Vec::new();
        for _ in 0..count.max(0) {
            let class = ar.read_class()?;
            let rect = ar.read()?;
            controls.push((rect, class.create(ar)?));
        }
        Ok(FormPadDoc { view, controls })
    }
}

fn control<T: 'static>(doc: &FormPadDoc, index: usize) -> &T {
    doc.controls[index]
        .1
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("control {index} has another class"))
}

#[test]
fn demo_pad_write_class_without_objects() {
    let doc: FormPadDoc = decode("Demo.pad", 566, |ar| {
        ar.register::<StaticText>()
            .register::<GroupBox>()
            .register::<Picture>()
            .register::<Button>()
            .register::<Animate>()
            .register::<DateTime>()
            .register::<IpAddress>()
            .register::<MonthCal>()
            .register::<ComboBox>();
    });
    assert_eq!(
        doc.view,
        Rect {
            left: 35,
            top: 105,
            right: 599,
            bottom: 459
        }
    );
    let classes: Vec<_> = doc.controls.iter().map(|(_, c)| c.class_name()).collect();
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
            "CMyComboBox",
        ]
    );
    assert_eq!(
        doc.controls[0].0,
        Rect {
            left: 54,
            top: 32,
            right: 89,
            bottom: 46
        }
    );
    let static_text = control::<StaticText>(&doc, 0);
    assert_eq!(
        (static_text.web_link, text(&static_text.caption).as_str()),
        (Bool::FALSE, "Static")
    );
    let animate = control::<Animate>(&doc, 4);
    assert_eq!(animate.path.len(), 54);
    assert_eq!(
        text(&animate.path),
        "C:\\_github\\MFC2019\\7실전프로젝트\\!Sources\\Media\\FILECOPY.avi"
    );
    let alarm = control::<DateTime>(&doc, 5);
    assert_eq!(
        (alarm.alarm, alarm.time),
        (Bool::FALSE, Time::new(1_587_217_662))
    );
    let ip = control::<IpAddress>(&doc, 6);
    assert_eq!(
        (text(&ip.text).as_str(), ip.combo, ip.action),
        ("127.0.0.1", 8, 0)
    );
    assert_eq!(control::<MonthCal>(&doc, 7).no_today, Bool::TRUE);
    assert_eq!(text(&control::<ComboBox>(&doc, 8).name), "ComboBox");
    assert_eq!(text(&control::<Button>(&doc, 3).caption), "Button");
}

// 8. Test.wsp -----------------------------------------------------------------
//
// The field layouts and names follow the writers (COXWorkspaceState::Serialize,
// COXChildFrameState and COXSplitterColRowState::StoreProperties, MFC's
// CDockState); the whole file decodes to its last byte with 20 load-array
// entries.

/// `WINDOWPLACEMENT` as COXWorkspaceState stores it: flags, show command, the
/// minimised and maximised positions, the normal rectangle.
#[derive(Debug, PartialEq, Serialize)]
struct WindowPlacement {
    flags: u32,
    show_cmd: u32,
    min_position: Point,
    max_position: Point,
    normal_position: Rect,
}

#[derive(Debug, Serialize)]
#[mfc(class = "COXChildFrameState", schema = 1)]
struct ChildFrameState {
    placement: WindowPlacement,
    document_path: MfcString,
    document_class: MfcString,
    frame_class: MfcString,
    view_class: MfcString,
    save_splitter_panes: Bool,
    /// A `CObArray*` of splitter states.
    splitters: Option<Arc<ObArray>>,
}

#[derive(Debug, Serialize)]
#[mfc(class = "COXSplitterColRowState", schema = 1)]
struct SplitterColRowState {
    row: Bool,
    col_row_index: i32,
    ideal_size: i32,
    min_size: i32,
}

/// `COXWorkspaceState::Serialize`, as the README outlines it.
#[derive(Debug, Serialize)]
struct WorkspaceState {
    magic: u32,
    version: u32,
    screen: Size,
    save_main_window: Bool,
    main_window: WindowPlacement,
    save_bar_properties: Bool,
    dock_state: Option<Arc<DockState>>,
    save_child_frames: Bool,
    save_splitter_panes: Bool,
    child_frames: Option<Arc<ObArray>>,
    /// `m_mapBarID2TabIdx`, `CMap<UINT, UINT, OXDOCKTABPOSITION, …>`: a bar id,
    /// then a 16-byte position (two `UINT`s, two `int`s). Empty in this file.
    bar_to_tab: Vec<(u32, (u32, u32, i32, i32))>,
    save_splitter_panes_again: Bool,
    splitter_panes: Option<Arc<ObArray>>,
}

#[test]
fn test_wsp_nested_objects_in_one_index_space() {
    let state: WorkspaceState = decode("Test.wsp", 1376, |ar| {
        ar.register::<ChildFrameState>()
            .register::<SplitterColRowState>();
    });
    assert_eq!(
        (state.magic, state.version, state.screen),
        (0x1234_FEDC, 1, Size { cx: 1024, cy: 768 })
    );
    let dock = state.dock_state.as_ref().expect("a CDockState");
    assert_eq!(
        (dock.version, dock.screen, dock.bars.len()),
        (2, Some(Size { cx: 1024, cy: 768 }), 7)
    );
    // The first bar (ID 0xE800, AFX_IDW_TOOLBAR) was docking: where it goes
    // back to is kept.
    let recent = dock.bars[0].recent.as_ref().expect("version 2 keeps it");
    assert_eq!(recent.width, 32767);
    assert_eq!(
        recent.docking.map(|d| (d.rect, d.float_style)),
        Some((
            Rect {
                left: -2,
                top: -2,
                right: 214,
                bottom: 30
            },
            8196
        ))
    );
    assert_eq!(
        dock.bars[3].bar_ids,
        [0, 0xE800, 0, 0xE804, 0],
        "the top dock bar holds both toolbars"
    );

    let frames: Vec<&ChildFrameState> = state
        .child_frames
        .as_ref()
        .unwrap()
        .0
        .iter()
        .map(|f| {
            f.as_ref()
                .unwrap()
                .downcast_ref::<ChildFrameState>()
                .unwrap()
        })
        .collect();
    let names: Vec<(String, String)> = frames
        .iter()
        .map(|f| (text(&f.document_class), text(&f.view_class)))
        .collect();
    assert_eq!(
        names,
        [
            ("CWorkspaceTextDoc".into(), "CWorkspaceLengthView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceTextView".into()),
            ("CWorkspaceGraphDoc".into(), "CWorkspaceGraphView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceTextView".into()),
            ("CWorkspaceTextDoc".into(), "CWorkspaceLengthView".into()),
        ]
    );
    let splitters: Vec<(bool, i32, i32)> = frames[2]
        .splitters
        .as_ref()
        .unwrap()
        .0
        .iter()
        .map(|s| {
            let s = s
                .as_ref()
                .unwrap()
                .downcast_ref::<SplitterColRowState>()
                .unwrap();
            (s.row.is_true(), s.col_row_index, s.ideal_size)
        })
        .collect();
    assert_eq!(
        splitters,
        [(true, 0, 240), (false, 0, 179), (false, 1, 470)]
    );
    assert!(state.bar_to_tab.is_empty() && state.splitter_panes.as_ref().unwrap().0.is_empty());
}

/// One `CStroke` for both Scribble steps, as a `VERSIONABLE_SCHEMA` class
/// reads them: the rectangle only from schema 2 on (issue 14: the stored
/// schema visible to a derived type).
#[derive(Debug, Serialize)]
#[mfc(class = "CStroke", schema = 2, versionable)]
struct StrokeAny {
    #[mfc(schema)]
    schema: u32,
    #[mfc(since_schema = 2)]
    bounds: Option<Rect>,
    pen_width: u16,
    points: Vec<Point>,
}

#[test]
fn one_versionable_derived_class_reads_both_scribble_steps() {
    let load = |name: &str, skip: usize| {
        let bytes = sample(name);
        let mut ar = Archive::load(&bytes[skip..]);
        ar.register::<StrokeAny>();
        let strokes: Vec<Option<Arc<StrokeAny>>> = ar.read().unwrap();
        assert_at_end(&mut ar);
        strokes.into_iter().flatten().collect::<Vec<_>>()
    };
    let step1 = load("ThreeStrokes.SCB", 0);
    let summary: Vec<_> = step1
        .iter()
        .map(|s| (s.schema, s.bounds, s.points.len()))
        .collect();
    assert_eq!(summary, [(1, None, 135), (1, None, 96), (1, None, 60)]);
    // Scribb1.SCB starts with the document's CSize (8 bytes).
    let step5 = load("Scribb1.SCB", 8);
    let summary: Vec<_> = step5.iter().map(|s| (s.schema, s.points.len())).collect();
    assert_eq!(summary, [(2, 4), (2, 65), (2, 13), (2, 2)]);
    assert_eq!(
        step5[0].bounds,
        Some(Rect {
            left: 207,
            top: -165,
            right: 212,
            bottom: -169
        })
    );
}
