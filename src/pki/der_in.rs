//! DER read element by element (a tag, a length, a value): a walk over a few tags where decoding
//! a whole structure with its crate's types would bring all of them into the page. Used for a
//! PKCS#7 bundle's certificates, a CA certificate's subject and key id, a batch certificate read
//! beside its sibling, and the extensions whose values are lists of names.

/// One DER element: its tag, its value and all of its bytes.
pub(super) struct Element<'a> {
    pub(super) tag: u8,
    pub(super) value: &'a [u8],
    pub(super) whole: &'a [u8],
}

/// The element at the start of `bytes`, and what follows it. A bundle is read element by element
/// (ContentInfo, SignedData, its certificates), not decoded as a whole: a `.p7b` is read only
/// for its certificates, each parsed on its own, and a walk over a few tags is a small part of
/// the page next to the whole of CMS's types decoded (signers, attributes, CRLs).
pub(super) fn element(bytes: &[u8]) -> Result<(Element<'_>, &[u8]), String> {
    const SHORT: &str = "it ends before its last element does: the file is cut short";
    let (&tag, rest) = bytes.split_first().ok_or(SHORT)?;
    if tag & 0x1f == 0x1f {
        return Err(format!(
            "it holds an element of an unexpected tag (0x{tag:02x}…)"
        ));
    }
    let (&first, rest) = rest.split_first().ok_or(SHORT)?;
    let (len, rest) = match first {
        0x80 => {
            return Err(
                "it is written in BER with lengths left open, not DER: convert it with \
                 `openssl pkcs7 -inform DER -in FILE -outform DER -out bundle.p7b` (or export it \
                 again as DER or Base64) and open that"
                    .into(),
            )
        }
        n if n < 0x80 => (usize::from(n), rest),
        n => {
            let k = usize::from(n & 0x7f);
            let digits = rest.get(..k).filter(|_| k <= 4).ok_or(SHORT)?;
            let len = digits
                .iter()
                .fold(0usize, |l, b| (l << 8) | usize::from(*b));
            (len, &rest[k..])
        }
    };
    let value = rest.get(..len).ok_or(SHORT)?;
    let header = bytes.len() - rest.len();
    Ok((
        Element {
            tag,
            value,
            whole: &bytes[..header + len],
        },
        &rest[len..],
    ))
}

/// The elements of `bytes`, one after the other (a SEQUENCE's or SET's value), until the first
/// that cannot be read.
pub(super) fn elements(mut bytes: &[u8]) -> impl Iterator<Item = Result<Element<'_>, String>> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        Some(match element(bytes) {
            Ok((e, next)) => {
                bytes = next;
                Ok(e)
            }
            Err(e) => {
                bytes = &[];
                Err(e)
            }
        })
    })
}
