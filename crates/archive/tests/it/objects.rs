//! Spec section 4: object tags, the shared class/object index space, big tags,
//! schemas, WriteClass/ReadClass, and the causes of bad input.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::sync::Arc;

use crate::common::{assert_at_end, hex, stored};
use mfc_archive::collections::ObArray;
use mfc_archive::{Archive, Cause, ClassRegistry, LoadArchive, ObjectRef, RuntimeClass, Serialize};

/// The spec's `CAge`: `IMPLEMENT_SERIAL(CAge, CObject, 1)`, body `LONG m_years`.
#[derive(Debug, PartialEq, Serialize)]
#[mfc(class = "CAge", schema = 1)]
struct Age {
    years: i32,
}

/// The same class compiled as `VERSIONABLE_SCHEMA | 2`; its body reads the
/// stored schema.
#[derive(Debug, PartialEq)]
struct AgeV2 {
    years: i32,
    schema_seen: Option<u32>,
}

impl mfc_archive::Store for AgeV2 {
    fn store(&self, ar: &mut mfc_archive::Storing<'_>) -> mfc_archive::Result<()> {
        ar.write(&self.years)
    }
}

impl mfc_archive::Load for AgeV2 {
    fn load(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Self> {
        let schema_seen = ar.object_schema();
        assert_eq!(ar.object_schema(), None, "GetObjectSchema answers once");
        Ok(AgeV2 {
            years: ar.read()?,
            schema_seen,
        })
    }
}

impl mfc_archive::SerialClass for AgeV2 {
    const CLASS_NAME: &'static str = "CAge";
    const SCHEMA: u32 = mfc_archive::VERSIONABLE_SCHEMA | 2;
}

fn age(years: i32) -> ObjectRef {
    Arc::new(Age { years })
}

fn loader(bytes: &[u8]) -> LoadArchive<&[u8]> {
    let mut ar = Archive::load(bytes);
    ar.register::<Age>();
    ar
}

fn years(object: &Option<ObjectRef>) -> i32 {
    object
        .as_ref()
        .expect("an object")
        .downcast_ref::<Age>()
        .expect("a CAge")
        .years
}

#[test]
fn null_object() {
    assert_eq!(stored(|ar| ar.write_object(None)), hex("00 00"));
    assert!(loader(&hex("00 00")).read_object().unwrap().is_none());
}

#[test]
fn two_objects_of_one_class_share_its_description() {
    let bytes = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 01 80 28 00 00 00"#);
    assert_eq!(
        stored(|ar| {
            ar.write_object(Some(&age(21)))?;
            ar.write_object(Some(&age(40)))
        }),
        bytes
    );
    let mut ar = loader(&bytes);
    let (a1, a2) = (ar.read_object().unwrap(), ar.read_object().unwrap());
    assert_eq!((years(&a1), years(&a2)), (21, 40));
    assert_at_end(&mut ar);
}

#[test]
fn the_same_object_twice_is_a_back_reference_and_loads_as_one_object() {
    let bytes = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 02 00"#);
    let a1 = age(21);
    assert_eq!(
        stored(|ar| {
            ar.write_object(Some(&a1))?;
            ar.write_object(Some(&a1))
        }),
        bytes
    );
    let mut ar = loader(&bytes);
    let first = ar.read_object().unwrap().unwrap();
    let second = ar.read_object().unwrap().unwrap();
    assert!(Arc::ptr_eq(&first, &second));
}

#[test]
fn an_obarray_body_with_null_and_back_references() {
    let bytes = hex(r#"04 00 FF FF 01 00 04 00 "CAge" 15 00 00 00 00 00 02 00 01 80 28 00 00 00"#);
    let (a1, a2) = (age(21), age(40));
    let array = vec![Some(a1.clone()), None, Some(a1), Some(a2)];
    assert_eq!(stored(|ar| ar.write(&array)), bytes);
    let loaded: Vec<Option<ObjectRef>> = loader(&bytes).read().unwrap();
    assert_eq!(
        loaded.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false, true, true]
    );
    assert!(Arc::ptr_eq(
        loaded[0].as_ref().unwrap(),
        loaded[2].as_ref().unwrap()
    ));
    assert_eq!(years(&loaded[3]), 40);
}

#[test]
fn an_obarray_by_pointer_is_an_object_of_class_cobarray() {
    let bytes = hex(
        r#"FF FF 00 00 08 00 "CObArray" 04 00 FF FF 01 00 04 00 "CAge" 15 00 00 00 00 00 04 00 03 80 28 00 00 00"#,
    );
    let (a1, a2) = (age(21), age(40));
    let array: ObjectRef = Arc::new(ObArray(vec![Some(a1.clone()), None, Some(a1), Some(a2)]));
    assert_eq!(stored(|ar| ar.write_object(Some(&array))), bytes);
    let loaded = loader(&bytes).read_object_as::<ObArray>().unwrap().unwrap();
    assert_eq!(loaded.0.len(), 4);
    assert!(Arc::ptr_eq(
        loaded.0[0].as_ref().unwrap(),
        loaded.0[2].as_ref().unwrap()
    ));
}

#[test]
fn map_object_takes_an_index_without_bytes() {
    let bytes = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 01 00"#);
    let (doc, a1) = (age(0), age(21));
    assert_eq!(
        stored(|ar| {
            ar.map_object(&doc)?;
            ar.write_object(Some(&a1))?;
            ar.write_object(Some(&doc))
        }),
        bytes
    );
    let mut ar = loader(&bytes);
    ar.map_object(&doc).unwrap();
    assert_eq!(years(&ar.read_object().unwrap()), 21);
    assert!(Arc::ptr_eq(&ar.read_object().unwrap().unwrap(), &doc));
}

#[test]
fn versionable_schema_is_not_stored_and_accepts_other_schemas() {
    let v2: ObjectRef = Arc::new(AgeV2 {
        years: 5,
        schema_seen: None,
    });
    let bytes = stored(|ar| ar.write_object(Some(&v2)));
    assert_eq!(bytes, hex(r#"FF FF 02 00 04 00 "CAge" 05 00 00 00"#));

    // A file written with schema 1 loads into the versionable class, which sees 1.
    let old = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 01 80 16 00 00 00"#);
    let mut ar = Archive::load(&old[..]);
    ar.register::<AgeV2>();
    let first = ar.read_object_as::<AgeV2>().unwrap().unwrap();
    let second = ar.read_object_as::<AgeV2>().unwrap().unwrap();
    assert_eq!(
        *first,
        AgeV2 {
            years: 21,
            schema_seen: Some(1)
        }
    );
    assert_eq!(
        *second,
        AgeV2 {
            years: 22,
            schema_seen: Some(1)
        }
    );
}

#[test]
fn a_schema_mismatch_without_versionable_is_bad_schema() {
    let bytes = hex(r#"FF FF 02 00 04 00 "CAge" 15 00 00 00"#);
    let err = loader(&bytes).read_object().unwrap_err();
    assert_eq!(err.cause(), Cause::BadSchema);
    assert!(
        matches!(
            err,
            mfc_archive::Error::BadSchema {
                expected: 1,
                found: 2,
                offset: 0,
                ..
            }
        ),
        "{err}"
    );
}

/// Writes `n` placeholder objects into the index space (via MapObject), so the next
/// index is `n + 1`.
fn fill_index_space(n: u32) -> Vec<ObjectRef> {
    (0..n).map(|_| age(0)).collect()
}

#[test]
fn big_tags_past_0x7ffe() {
    let filler = fill_index_space(0x7FFD);
    // Class gets index 0x7FFE: its reference is the WORD FE FF.
    let bytes = stored(|ar| {
        filler.iter().try_for_each(|o| ar.map_object(o))?;
        ar.write_class(&RuntimeClass::of::<Age>())?;
        ar.write_class(&RuntimeClass::of::<Age>())
    });
    assert_eq!(&bytes[bytes.len() - 2..], hex("FE FF"));

    // Class at index 0x8000: FF 7F + DWORD 0x80008000.
    let filler = fill_index_space(0x7FFF);
    let bytes = stored(|ar| {
        filler.iter().try_for_each(|o| ar.map_object(o))?;
        ar.write_class(&RuntimeClass::of::<Age>())?;
        ar.write_class(&RuntimeClass::of::<Age>())
    });
    assert_eq!(&bytes[bytes.len() - 6..], hex("FF 7F 00 80 00 80"));
    let mut ar = loader(&bytes);
    filler.iter().for_each(|o| ar.map_object(o).unwrap());
    assert_eq!(ar.read_class().unwrap().name(), "CAge");
    assert_eq!(ar.read_class().unwrap().name(), "CAge");
    assert_at_end(&mut ar);
}

#[test]
fn back_reference_to_object_0x12345() {
    let filler = fill_index_space(0x12345);
    let target = filler[0x12345 - 1].clone();
    let bytes = stored(|ar| {
        filler.iter().try_for_each(|o| ar.map_object(o))?;
        ar.write_object(Some(&target))
    });
    assert_eq!(bytes, hex("FF 7F 45 23 01 00"));
    let mut ar = loader(&bytes);
    filler.iter().for_each(|o| ar.map_object(o).unwrap());
    assert!(Arc::ptr_eq(&ar.read_object().unwrap().unwrap(), &target));
}

#[test]
fn object_index_0x7ffe_is_small_and_0x7fff_is_big() {
    let filler = fill_index_space(0x7FFF);
    let bytes = stored(|ar| {
        filler.iter().try_for_each(|o| ar.map_object(o))?;
        ar.write_object(Some(&filler[0x7FFE - 1]))?;
        ar.write_object(Some(&filler[0x7FFF - 1]))
    });
    assert_eq!(bytes, hex("FE 7F FF 7F FF 7F 00 00"));
}

#[test]
fn small_indices_in_big_form_are_accepted() {
    let bytes = hex(
        r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 FF 7F 02 00 00 00 FF 7F 01 00 00 80 28 00 00 00"#,
    );
    let mut ar = loader(&bytes);
    let first = ar.read_object().unwrap().unwrap();
    assert!(Arc::ptr_eq(&first, &ar.read_object().unwrap().unwrap()));
    assert_eq!(years(&ar.read_object().unwrap()), 40);
    assert_at_end(&mut ar);
}

#[test]
fn write_class_alone_consumes_no_object_index() {
    let bytes = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 01 80 2A 00 00 00"#);
    let written = stored(|ar| {
        ar.write_class(&RuntimeClass::of::<Age>())?;
        ar.write(&Age { years: 21 })?;
        ar.write_class(&RuntimeClass::of::<Age>())?;
        ar.write(&Age { years: 42 })
    });
    assert_eq!(written, bytes);
    let mut ar = loader(&bytes);
    for expected in [21, 42] {
        let class = ar.read_class().unwrap();
        assert_eq!(ar.object_schema(), Some(1));
        let object = class.create(&mut *erase(&mut ar)).unwrap();
        assert_eq!(object.downcast_ref::<Age>().unwrap().years, expected);
    }
}

fn erase<'a>(ar: &'a mut LoadArchive<&[u8]>) -> &'a mut mfc_archive::Loading<'a> {
    ar
}

#[test]
fn bad_tags_are_bad_index_with_their_offset() {
    let cases = [
        ("05 00", "an object index past the end"),
        ("00 80", "class index 0"),
        ("02 80", "a class index past the end"),
        (
            r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 01 00"#,
            "an object tag naming a class",
        ),
        (
            r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 02 80"#,
            "a class tag naming an object",
        ),
    ];
    for (bytes, what) in cases {
        let bytes = hex(bytes);
        let mut ar = loader(&bytes);
        let err = loop {
            match ar.read_object() {
                Ok(_) => continue,
                Err(err) => break err,
            }
        };
        assert_eq!(err.cause(), Cause::BadIndex, "{what}: {err}");
        assert_eq!(err.offset() as usize, bytes.len() - 2, "{what}: {err}");
    }
    let err = loader(&hex("02 00")).read_class().unwrap_err();
    assert_eq!(err.cause(), Cause::BadIndex, "{err}");
}

#[test]
fn unknown_or_long_class_names_are_bad_class() {
    let err = loader(&hex(r#"FF FF 01 00 05 00 "CAges" 15 00 00 00"#))
        .read_object()
        .unwrap_err();
    assert_eq!(err.cause(), Cause::BadClass);
    assert!(err.to_string().contains("\"CAges\""), "{err}");

    let mut long = hex("FF FF 01 00 40 00");
    long.extend_from_slice(&[b'C'; 64]);
    let err = loader(&long).read_object().unwrap_err();
    assert_eq!(err.cause(), Cause::BadClass);
    assert!(err.to_string().contains("64 bytes"), "{err}");

    // Names compare case-sensitively, as lstrcmpA does.
    let err = loader(&hex(r#"FF FF 01 00 04 00 "cage" 15 00 00 00"#))
        .read_object()
        .unwrap_err();
    assert_eq!(err.cause(), Cause::BadClass);
}

#[test]
fn a_typed_read_rejects_another_class() {
    let bytes = hex(r#"FF FF 00 00 08 00 "CObArray" 00 00"#);
    let err = loader(&bytes).read_object_as::<Age>().unwrap_err();
    assert_eq!(err.cause(), Cause::BadClass);
    assert!(
        err.to_string().contains("CAge") && err.to_string().contains("CObArray"),
        "{err}"
    );
}

#[test]
fn an_empty_registry_knows_no_class() {
    let bytes = hex(r#"FF FF 00 00 08 00 "CObArray" 00 00"#);
    let mut ar = Archive::load(&bytes[..]).with_classes(ClassRegistry::empty());
    assert_eq!(ar.read_object().unwrap_err().cause(), Cause::BadClass);
}

#[test]
fn classes_that_mfc_cannot_store_are_refused() {
    #[derive(Debug, Serialize)]
    #[mfc(class = "CDynamicOnly", schema = 0xFFFF)]
    struct DynamicOnly;
    let mut out = Vec::new();
    let err = Archive::store(&mut out)
        .write_class(&RuntimeClass::of::<DynamicOnly>())
        .unwrap_err();
    assert_eq!(err.cause(), Cause::Generic);
    assert!(err.to_string().contains("schema 0xFFFF"), "{err}");
}

/// A mixed list through an enum (issue 14: dispatch without downcasts).
#[derive(Debug, mfc_archive::ObjectEnum)]
enum AgeOnly {
    Age(Arc<Age>),
}

#[test]
fn an_object_enum_refuses_classes_and_nulls_it_does_not_list() {
    // Spec 4.7: CObArray {a1, NULL, a1, a2} via arr.Serialize(ar).
    let bytes = hex(r#"04 00 FF FF 01 00 04 00 "CAge" 15 00 00 00 00 00 02 00 01 80 28 00 00 00"#);
    let mut classes = ClassRegistry::default();
    AgeOnly::register_classes(&mut classes);
    let err = Archive::load(&bytes[..])
        .with_classes(classes.clone())
        .read::<Vec<AgeOnly>>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad class at byte 16: expected an object of class CAge, found a null pointer"
    );
    // Without the NULL: a1, a1, a2, read and stored back with the back-reference.
    let bytes = hex(r#"03 00 FF FF 01 00 04 00 "CAge" 15 00 00 00 02 00 01 80 28 00 00 00"#);
    let ages: Vec<AgeOnly> = Archive::load(&bytes[..])
        .with_classes(classes)
        .read()
        .unwrap();
    let years: Vec<i32> = ages.iter().map(|AgeOnly::Age(age)| age.years).collect();
    assert_eq!(years, [21, 21, 40]);
    assert_eq!(stored(|ar| ar.write(&ages)), bytes);
    // A class the enum does not list.
    let array = hex(r#"FF FF 00 00 08 00 "CObArray" 00 00"#);
    let err = Archive::load(&array[..]).read::<AgeOnly>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad class at byte 0: expected an object of class CAge, found class CObArray"
    );
}

#[test]
fn a_version_1_dock_state_has_no_screen_size_and_no_recent_places() {
    use mfc_archive::{ControlBarInfo, DockState, Point};
    // CDockState version 1 (MFC before 4.0): the version, a WORD count of
    // bars, then each bar: ID, visible, floating, horizontal, position, a
    // WORD count of bar IDs and the IDs.
    let bytes = hex("01 00 00 00 01 00 \
         00 E8 00 00 01 00 00 00 00 00 00 00 01 00 00 00 FE FF FF FF 10 00 00 00 \
         02 00 00 E8 00 00 00 00 00 00");
    let state: DockState = Archive::load(&bytes[..]).read().unwrap();
    assert_eq!(
        state,
        DockState {
            version: 1,
            screen: None,
            bars: vec![ControlBarInfo {
                id: 0xE800,
                visible: mfc_archive::Bool::TRUE,
                floating: mfc_archive::Bool::FALSE,
                horizontal: mfc_archive::Bool::TRUE,
                position: Point { x: -2, y: 16 },
                recent: None,
                bar_ids: vec![0xE800, 0],
            }],
        }
    );
    assert_eq!(stored(|ar| ar.write(&state)), bytes);
    // By pointer it is an object of the default registry's class CDockState.
    let mut by_pointer = hex(r#"FF FF 00 00 0A 00 "CDockState""#);
    by_pointer.extend_from_slice(&bytes);
    let object = Archive::load(&by_pointer[..])
        .read_object()
        .unwrap()
        .unwrap();
    assert_eq!(object.downcast_ref::<DockState>(), Some(&state));
}
