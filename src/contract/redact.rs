//! Secrets in `Debug` output: shown as how long they are, never what they are.

use std::fmt;

/// Formats a secret for `Debug` as `<redacted, N chars>` (or `<empty>`).
pub struct Redacted<'a>(pub &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("<empty>")
        } else {
            write!(f, "<redacted, {} chars>", self.0.chars().count())
        }
    }
}
