//! PEM armor (RFC 7468): one block, with errors named after the block expected.

use super::PkiError;

/// One PEM block of `der` labelled `label`, lines ended by LF (as OpenSSL writes them).
pub(super) fn pem_lf(label: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Decodes one PEM block, naming what was wrong in terms of the block we expected.
pub(super) fn pem_rfc7468_decode(
    pem: &str,
    expected: &'static str,
) -> Result<(String, Vec<u8>), PkiError> {
    let trimmed = pem.trim();
    if trimmed.is_empty() {
        return Err(PkiError::PemInvalid {
            expected,
            detail: "the text is empty".into(),
        });
    }
    if !trimmed.starts_with("-----BEGIN ") {
        return Err(PkiError::PemInvalid {
            expected,
            detail: "no -----BEGIN line".into(),
        });
    }
    let parsed = pem::parse(trimmed).map_err(|e| PkiError::PemInvalid {
        expected,
        detail: match e {
            pem::PemError::MissingEndTag | pem::PemError::MalformedFraming => {
                "the -----END line is missing: the block is cut off".into()
            }
            pem::PemError::MissingData => "the block has no content between its lines".into(),
            pem::PemError::InvalidHeader(h) => format!("a header line is not understood ({h})"),
            pem::PemError::MismatchedTags(a, b) => format!("BEGIN {a} does not match END {b}"),
            pem::PemError::InvalidData(_) => "the base64 body is damaged".into(),
            other => other.to_string(),
        },
    })?;
    Ok((parsed.tag().to_owned(), parsed.into_contents()))
}
