//! DER written by hand where a certificate is spliced or written element by element
//! (`template`, `external`): lengths, a name of one CN, serials.

/// The length of a DER value, as DER writes it.
pub(super) fn der_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xffff => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        _ => out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]),
    }
}

/// How many bytes `der_len` writes for `len`.
pub(super) fn der_len_size(len: usize) -> usize {
    match len {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        _ => 4,
    }
}

/// `Name ::= SEQUENCE { SET { SEQUENCE { commonName, UTF8String } } }`, as rcgen writes a name of
/// one CN.
pub(super) fn common_name_der(out: &mut Vec<u8>, cn: &[u8]) {
    const CN: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
    let value = 1 + der_len_size(cn.len()) + cn.len();
    let attribute = CN.len() + value;
    let set = 1 + der_len_size(attribute) + attribute;
    let name = 1 + der_len_size(set) + set;
    out.push(0x30);
    der_len(out, name);
    out.push(0x31);
    der_len(out, set);
    out.push(0x30);
    der_len(out, attribute);
    out.extend_from_slice(&CN);
    out.push(0x0c);
    der_len(out, cn.len());
    out.extend_from_slice(cn);
}

/// Serial bytes as this module draws them: 16, positive, never shortened by DER.
pub(super) fn serial_bytes(mut bytes: [u8; 16]) -> [u8; 16] {
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    bytes
}
