//! MFC's `CDockState`: where a frame's control bars were (docked, floating,
//! their sizes), as `CFrameWnd::GetDockState` records it and a workspace
//! file saves it. A stock MFC class, so a document that holds one needs no
//! layout of its own.

use crate::classes::SerialClass;
use crate::error::{Error, Result};
use crate::values::{Bool, Point, Rect, Size};
use crate::{Load, Loading, Store, Storing};

/// `CDockState` (class `CDockState`, schema 0): a version, the screen size
/// (from version 2), and one [`ControlBarInfo`] per bar, after a `WORD`
/// count. MFC 4.0 and later write version 2.
///
/// ```
/// use mfc_archive::{Archive, DockState, Size};
/// // Version 2, a 1024×768 screen, no bars.
/// let bytes = [2, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 0];
/// let state: DockState = Archive::load(&bytes[..]).read()?;
/// assert_eq!((state.version, state.screen), (2, Some(Size { cx: 1024, cy: 768 })));
/// assert_eq!(mfc_archive::to_vec(&state)?, bytes);
/// # Ok::<(), mfc_archive::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockState {
    /// The layout version (`m_dwVersion`): 1 or 2.
    pub version: u32,
    /// The screen size the state was saved on: stored from version 2 on.
    pub screen: Option<Size>,
    /// The bars, as `CControlBarInfo`s.
    pub bars: Vec<ControlBarInfo>,
}

/// One control bar's `CControlBarInfo` in a [`DockState`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ControlBarInfo {
    /// The bar's control ID (`m_nBarID`).
    pub id: u32,
    /// `m_bVisible`.
    pub visible: Bool,
    /// `m_bFloating`.
    pub floating: Bool,
    /// `m_bHorz`.
    pub horizontal: Bool,
    /// `m_pointPos`: where the bar is.
    pub position: Point,
    /// What version 2 adds: the most recent docked width and place.
    pub recent: Option<RecentPlace>,
    /// `m_arrBarID`: on a dock bar, the IDs of the bars it holds, rows
    /// separated by 0; after a `WORD` count, one `DWORD` each.
    pub bar_ids: Vec<u32>,
}

/// Version 2's most recent place of a bar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecentPlace {
    /// `m_nMRUWidth`.
    pub width: u32,
    /// Where it went back to when it was docking (`m_bDocking`), else `None`.
    pub docking: Option<RecentDock>,
}

/// Where a docking bar goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentDock {
    /// `m_uMRUDockID`: the dock bar.
    pub dock_bar: u32,
    /// `m_rectMRUDockPos`.
    pub rect: Rect,
    /// `m_dwMRUFloatStyle`.
    pub float_style: u32,
    /// `m_ptMRUFloatPos`.
    pub float_position: Point,
}

impl SerialClass for DockState {
    const CLASS_NAME: &'static str = "CDockState";
    const SCHEMA: u32 = 0;
    const DROPS_FLAT: bool = true;
}

impl Store for DockState {
    /// # Errors
    /// [`Error::Generic`] for more than 65,535 bars or bar IDs (a `WORD`
    /// counts them), or a version-2 state without its screen size.
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.write(&self.version)?;
        if self.version > 1 {
            let screen = self.screen.ok_or_else(|| Error::Generic {
                offset: ar.offset(),
                message: "expected a screen size in a version 2 CDockState".into(),
            })?;
            ar.write(&screen)?;
        }
        write_word_count(ar, self.bars.len(), "control bars")?;
        for bar in &self.bars {
            ar.write(&bar.id)?;
            ar.write(&bar.visible)?;
            ar.write(&bar.floating)?;
            ar.write(&bar.horizontal)?;
            ar.write(&bar.position)?;
            if self.version > 1 {
                let recent = bar.recent.clone().unwrap_or_default();
                ar.write(&recent.width)?;
                ar.write(&Bool::from(recent.docking.is_some()))?;
                if let Some(dock) = recent.docking {
                    ar.write(&dock.dock_bar)?;
                    ar.write(&dock.rect)?;
                    ar.write(&dock.float_style)?;
                    ar.write(&dock.float_position)?;
                }
            }
            write_word_count(ar, bar.bar_ids.len(), "bar IDs")?;
            bar.bar_ids.iter().try_for_each(|id| ar.write(id))?;
        }
        Ok(())
    }
}

impl Load for DockState {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let version: u32 = ar.read()?;
        let screen = if version > 1 { Some(ar.read()?) } else { None };
        let count: u16 = ar.read()?;
        let mut bars = Vec::new();
        for _ in 0..count {
            let (id, visible, floating, horizontal, position) =
                (ar.read()?, ar.read()?, ar.read()?, ar.read()?, ar.read()?);
            let recent = if version > 1 {
                let width = ar.read()?;
                let docking = if ar.read::<Bool>()?.is_true() {
                    Some(RecentDock {
                        dock_bar: ar.read()?,
                        rect: ar.read()?,
                        float_style: ar.read()?,
                        float_position: ar.read()?,
                    })
                } else {
                    None
                };
                Some(RecentPlace { width, docking })
            } else {
                None
            };
            let ids: u16 = ar.read()?;
            let bar_ids = (0..ids).map(|_| ar.read()).collect::<Result<_>>()?;
            bars.push(ControlBarInfo {
                id,
                visible,
                floating,
                horizontal,
                position,
                recent,
                bar_ids,
            });
        }
        Ok(DockState {
            version,
            screen,
            bars,
        })
    }
    const MIN_BYTES: usize = 6;
}

fn write_word_count(ar: &mut Storing<'_>, len: usize, what: &str) -> Result<()> {
    let count = u16::try_from(len).map_err(|_| Error::Generic {
        offset: ar.offset(),
        message: format!("expected at most 65535 {what} in a CDockState, found {len}"),
    })?;
    ar.write(&count)
}
