//! CHATTER's `CMsg` (`(WORD)m_bClose`, `m_strText`, `m_msgList`) loaded from
//! hostile bytes, as the chat server does with every client's message; what
//! loads stores and loads back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfc_archive::{Archive, MfcString, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
struct CMsg {
    close: u16,
    text: MfcString,
    history: Vec<MfcString>,
}

fuzz_target!(|data: &[u8]| {
    let mut ar = Archive::load(data);
    let mut messages = Vec::new();
    while let Ok(Some(message)) = ar.read_message(|ar| ar.read::<CMsg>()) {
        messages.push(message);
        if messages.len() > 64 {
            break;
        }
    }
    let mut bytes = Vec::new();
    let mut out = Archive::store(&mut bytes);
    for message in &messages {
        out.write(message).expect("storing into a Vec succeeds");
    }
    out.close().expect("closing succeeds");
    let mut back = Archive::load(&bytes[..]);
    for message in &messages {
        assert_eq!(
            &back.read::<CMsg>().expect("what was stored loads"),
            message
        );
    }
});
