//! The object-tag constants of MFC's `WriteObject`/`ReadObject` (TN002), in one
//! place.

/// A null object pointer.
pub(crate) const NULL_TAG: u16 = 0x0000;
/// A class description follows.
pub(crate) const NEW_CLASS_TAG: u16 = 0xFFFF;
/// OR-ed with a small class index.
pub(crate) const CLASS_TAG: u16 = 0x8000;
/// OR-ed with a big (`DWORD`) class index.
pub(crate) const CLASS_TAG_BIT: u32 = 0x8000_0000;
/// A `DWORD` tag follows.
pub(crate) const BIG_OBJECT_TAG: u16 = 0x7FFF;
/// MFC's ceiling on the shared class/object index (`nMaxMapCount`).
pub(crate) const MAX_MAP_COUNT: u32 = 0x3FFF_FFFE;
/// The schema MFC reserves for "not serializable" classes.
pub(crate) const NOT_SERIALIZABLE_SCHEMA: u16 = 0xFFFF;
