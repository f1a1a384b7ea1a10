//! Percent-encoding as IoT Hub's SDKs apply it to SAS resources, signatures, device ids in paths
//! and message property bags.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What JavaScript's `encodeURIComponent` leaves alone, minus `!'()*`, as the SDKs' strict variant
/// does: letters, digits and `-_.~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` as the IoT Hub SDKs do (`encodeURIComponent`, strict).
pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Decodes `%XX` escapes; invalid UTF-8 becomes U+FFFD rather than an error, as the hub does.
pub fn url_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_encode_uri_component_strict() {
        assert_eq!(url_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(url_encode("dev$1(a) !'*"), "dev%241%28a%29%20%21%27%2A");
        assert_eq!(url_encode("h/devices/d"), "h%2Fdevices%2Fd");
        assert_eq!(url_encode("é"), "%C3%A9");
    }

    #[test]
    fn decoding_undoes_encoding() {
        for s in ["", "a=b&c", "température 21°C", "$.ct=application/json"] {
            assert_eq!(url_decode(&url_encode(s)), s);
        }
    }
}
