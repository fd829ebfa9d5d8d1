//! MFC's CHATSRVR/CHATTER protocol: one `CMsg` per message, serialized directly
//! (no class header) and flushed.
//!
//! Port 700 + channel; the client joins with "NAME: has just joined the
//! discussion", sends "NAME: line", leaves with close flag 1; the server keeps
//! the history and sends each client the lines it has not received yet.

pub mod client;
pub mod history;
pub mod server;

use sockarc::archive::{MfcString, Serialize};

/// The channel's port: CHATSRVR listens on 700 + channel (channel 0 to 99).
pub fn port_of(channel: u16) -> u16 {
    700 + channel
}

/// `CMsg`: `(WORD)m_bClose`, `m_strText`, `m_msgList.Serialize(ar)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CMsg {
    /// 1 when the sender is leaving (a client) or shutting down (the server).
    pub close: u16,
    /// A client's line ("NAME: text"); empty from the server.
    pub text: MfcString,
    /// History lines the receiver has not had yet; empty from a client.
    pub history: Vec<MfcString>,
}

/// How this peer writes text: as an ANSI build (in a code page) or a Unicode one.
#[derive(Debug, Clone, Copy)]
pub struct Encoding {
    /// Send `CStringW` (`FF FE FF` + UTF-16LE) rather than code-page bytes.
    pub unicode: bool,
    /// The ANSI code page, for sending and for decoding ANSI text received.
    pub code_page: &'static sockarc::archive::encoding_rs::Encoding,
}

impl Encoding {
    /// `text` as this peer's `CString`.
    pub fn string(&self, text: &str) -> MfcString {
        if self.unicode {
            MfcString::unicode(text)
        } else {
            MfcString::ansi_in(text, self.code_page)
        }
    }

    /// Archive options whose ANSI code page is this peer's.
    pub fn options(&self) -> sockarc::archive::Options {
        sockarc::archive::Options {
            code_page: self.code_page,
            ..Default::default()
        }
    }
}
