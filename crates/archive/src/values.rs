//! MFC's value types with archive operators: `BOOL`, `POINT`/`SIZE`/`RECT`,
//! `CTime`, `CTimeSpan`, `COleDateTime`, `COleDateTimeSpan`, `COleCurrency`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::{Load, Loading, Store, Storing};

/// The 4-byte Win32 `BOOL` (an `int`), as opposed to the 1-byte C++ `bool`.
///
/// It keeps the `int` it was loaded as: C code often stores a `BOOL` that is
/// not 1 for true (a flag mask, `2`), and storing it back writes the same
/// bytes. Test it with [`is_true`](Self::is_true), as C does (any non-zero
/// value); `Bool::from(true)` is [`Bool::TRUE`], 1.
///
/// ```
/// use mfc_archive::{Archive, Bool};
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write(&Bool::from(true))?;
/// ar.close()?;
/// assert_eq!(out, [0x01, 0x00, 0x00, 0x00]);
///
/// let read: Bool = Archive::load(&[0x02, 0x00, 0x00, 0x00][..]).read()?;
/// assert!(read.is_true());
/// let mut again = Vec::new();
/// let mut ar = Archive::store(&mut again);
/// ar.write(&read)?;
/// ar.close()?;
/// assert_eq!(again, [0x02, 0x00, 0x00, 0x00]);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Bool(pub i32);

impl Bool {
    /// `TRUE`, 1.
    pub const TRUE: Bool = Bool(1);
    /// `FALSE`, 0.
    pub const FALSE: Bool = Bool(0);

    /// Whether it is true: non-zero, as C tests a `BOOL`.
    pub fn is_true(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool {
    fn from(value: bool) -> Self {
        Bool(i32::from(value))
    }
}

impl From<Bool> for bool {
    fn from(value: Bool) -> Self {
        value.is_true()
    }
}

impl Store for Bool {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.put(self.0.to_le_bytes())
    }
}

impl Load for Bool {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        Ok(Bool(i32::from_le_bytes(ar.take("a BOOL (4 bytes)")?)))
    }
    const MIN_BYTES: usize = 4;
}

macro_rules! long_struct {
    ($(#[$doc:meta])* $name:ident { $($field:ident),+ } $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            $(
                #[allow(missing_docs)]
                pub $field: i32,
            )+
        }

        impl Store for $name {
            fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
                $(ar.put(self.$field.to_le_bytes())?;)+
                Ok(())
            }
        }

        impl Load for $name {
            fn load(ar: &mut Loading<'_>) -> Result<Self> {
                Ok($name { $($field: i32::from_le_bytes(ar.take($what)?),)+ })
            }
            const MIN_BYTES: usize = 0 $(+ { let _ = stringify!($field); 4 })+;
        }
    };
}

long_struct! {
    /// `POINT`/`CPoint`: two `LONG`s, x then y (8 bytes).
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let mut ar = mfc_archive::Archive::store(&mut out);
    /// ar.write(&mfc_archive::Point { x: 1, y: -1 })?;
    /// ar.close()?;
    /// assert_eq!(out, [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    Point { x, y } "a POINT member (LONG)"
}

long_struct! {
    /// `SIZE`/`CSize`: two `LONG`s, cx then cy (8 bytes).
    Size { cx, cy } "a SIZE member (LONG)"
}

long_struct! {
    /// `RECT`/`CRect`: four `LONG`s, left, top, right, bottom (16 bytes).
    ///
    /// ```
    /// use mfc_archive::Rect;
    /// let mut out = Vec::new();
    /// let mut ar = mfc_archive::Archive::store(&mut out);
    /// ar.write(&Rect { left: 10, top: 20, right: 110, bottom: 220 })?;
    /// ar.close()?;
    /// assert_eq!(out, [0x0A, 0, 0, 0, 0x14, 0, 0, 0, 0x6E, 0, 0, 0, 0xDC, 0, 0, 0]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    Rect { left, top, right, bottom } "a RECT member (LONG)"
}

/// The `DWORD` that announces a 64-bit `CTime` (`INT_MIN + 10`).
const TIME64_MARKER: u32 = 0x8000_000A;

/// How a [`Time`] is stored: the two forms MFC has written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum TimeForm {
    /// The marker `0x8000000A`, then the 64-bit `__time64_t` (12 bytes):
    /// MFC 8.0 (Visual Studio 2005) and later.
    #[default]
    Time64,
    /// The 32-bit `time_t` alone (4 bytes): Visual C++ 6 and 7.
    Time32,
}

/// `CTime`: seconds since 1970-01-01 UTC, and the form it is stored in.
///
/// Loads both forms MFC has written, and keeps the one it found, so a
/// document loaded and stored again has the same bytes; a new `Time`
/// ([`Time::new`]) is stored as MFC 8.0 and later store it.
///
/// ```
/// use mfc_archive::{Archive, Time, TimeForm};
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write(&Time::new(1587217662))?;
/// ar.close()?;
/// assert_eq!(out, [0x0A, 0, 0, 0x80, 0xFE, 0x04, 0x9B, 0x5E, 0, 0, 0, 0]);
///
/// let vc6: Time = Archive::load(&[0xFE, 0x04, 0x9B, 0x5E][..]).read()?;
/// assert_eq!((vc6.seconds, vc6.form), (1587217662, TimeForm::Time32));
/// let mut again = Vec::new();
/// let mut ar = Archive::store(&mut again);
/// ar.write(&vc6)?;
/// ar.close()?;
/// assert_eq!(again, [0xFE, 0x04, 0x9B, 0x5E]);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Time {
    /// Seconds since 1970-01-01 UTC.
    pub seconds: i64,
    /// The form it was loaded in, or is to be stored in.
    pub form: TimeForm,
}

impl Time {
    /// A time stored in the 64-bit form.
    pub const fn new(seconds: i64) -> Self {
        Time {
            seconds,
            form: TimeForm::Time64,
        }
    }

    /// The time as a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_secs(self.seconds.unsigned_abs());
        if self.seconds >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

impl Store for Time {
    /// # Errors
    /// [`Error::Generic`] for a [`TimeForm::Time32`] time outside the 32-bit
    /// range, or one equal to the 64-bit form's marker (which a loader would
    /// take for the marker).
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        match self.form {
            TimeForm::Time64 => {
                ar.put(TIME64_MARKER.to_le_bytes())?;
                ar.put(self.seconds.to_le_bytes())
            }
            TimeForm::Time32 => match i32::try_from(self.seconds) {
                Ok(seconds) if seconds.cast_unsigned() != TIME64_MARKER => {
                    ar.put(seconds.to_le_bytes())
                }
                _ => Err(Error::Generic {
                    offset: ar.offset(),
                    message: format!(
                        "expected a 32-bit CTime other than {:#x} (its 64-bit marker), found {} seconds",
                        TIME64_MARKER, self.seconds
                    ),
                }),
            },
        }
    }
}

impl Load for Time {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let first = u32::from_le_bytes(ar.take("a CTime (DWORD)")?);
        if first == TIME64_MARKER {
            Ok(Time::new(i64::from_le_bytes(
                ar.take("a 64-bit CTime after its marker")?,
            )))
        } else {
            Ok(Time {
                seconds: i64::from(first.cast_signed()),
                form: TimeForm::Time32,
            })
        }
    }
    const MIN_BYTES: usize = 4;
}

/// `CTimeSpan`: a signed number of seconds, stored in one `DWORD`; loading
/// sign-extends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TimeSpan(pub i64);

impl Store for TimeSpan {
    /// # Errors
    /// [`Error::Generic`] for a span outside `i32::MIN..=u32::MAX` seconds, which
    /// one `DWORD` cannot carry (MFC throws `CInvalidArgException` above
    /// `UINT_MAX`).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a negative CTimeSpan is stored as its two's complement DWORD"
    )]
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        if self.0 > i64::from(u32::MAX) || self.0 < i64::from(i32::MIN) {
            return Err(Error::Generic {
                offset: ar.offset(),
                message: format!(
                    "expected a CTimeSpan that fits a DWORD, found {} seconds",
                    self.0
                ),
            });
        }
        ar.put((self.0 as u32).to_le_bytes())
    }
}

impl Load for TimeSpan {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        Ok(TimeSpan(i64::from(i32::from_le_bytes(
            ar.take("a CTimeSpan (DWORD)")?,
        ))))
    }
    const MIN_BYTES: usize = 4;
}

/// `COleDateTime`: a status (`0` valid, `1` invalid, `2` null) and an OLE `DATE`
/// (days since 1899-12-30), 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OleDateTime {
    /// `m_status`.
    pub status: i32,
    /// `m_dt`.
    pub date: f64,
}

/// `COleDateTimeSpan`: a status and a span in days, 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OleDateTimeSpan {
    /// `m_status`.
    pub status: i32,
    /// `m_span`, in days.
    pub span: f64,
}

macro_rules! status_and_double {
    ($name:ident, $field:ident, $what:literal) => {
        impl Store for $name {
            fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
                ar.put(self.status.to_le_bytes())?;
                ar.put(self.$field.to_le_bytes())
            }
        }

        impl Load for $name {
            fn load(ar: &mut Loading<'_>) -> Result<Self> {
                Ok($name {
                    status: i32::from_le_bytes(ar.take(concat!($what, " status (LONG)"))?),
                    $field: f64::from_le_bytes(ar.take(concat!($what, " value (double)"))?),
                })
            }
            const MIN_BYTES: usize = 12;
        }
    };
}

status_and_double!(OleDateTime, date, "a COleDateTime");
status_and_double!(OleDateTimeSpan, span, "a COleDateTimeSpan");

/// `COleCurrency`: a status and a `CY` (an `i64` in units of 1/10000), stored as
/// status, high `LONG`, low `DWORD` (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OleCurrency {
    /// `m_status`.
    pub status: i32,
    /// `m_cur.int64`: the amount times 10,000.
    pub value: i64,
}

impl Store for OleCurrency {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a CURRENCY is stored as its low and high DWORDs"
    )]
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.put(self.status.to_le_bytes())?;
        ar.put(((self.value >> 32) as i32).to_le_bytes())?;
        ar.put((self.value as u32).to_le_bytes())
    }
}

impl Load for OleCurrency {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let status = i32::from_le_bytes(ar.take("a COleCurrency status (LONG)")?);
        let high = i32::from_le_bytes(ar.take("a COleCurrency high part (LONG)")?);
        let low = u32::from_le_bytes(ar.take("a COleCurrency low part (DWORD)")?);
        Ok(OleCurrency {
            status,
            value: (i64::from(high) << 32) | i64::from(low),
        })
    }
    const MIN_BYTES: usize = 12;
}
