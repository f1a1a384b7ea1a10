//! Distinguished names as text, the way x509-cert writes them (RFC 4514 escaping, the attribute's
//! shortest name in capitals), from a table of the attributes certificates use. x509-cert's own
//! `Display` looks each attribute up in `const_oid`'s whole database of object identifiers: 95 KB
//! in every WebAssembly module that shows a name, for some twenty names. An attribute outside the
//! table is written as x509-cert writes one outside the database: `1.2.3=#<DER in hex>`.

use std::fmt::Write;

use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::oid::ObjectIdentifier;
use der::{Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// The attributes by the name x509-cert gives them (the database's shortest, in capitals).
const NAMES: &[(ObjectIdentifier, &str)] = &[
    (oid("2.5.4.3"), "CN"),
    (oid("2.5.4.6"), "C"),
    (oid("2.5.4.7"), "L"),
    (oid("2.5.4.8"), "ST"),
    (oid("2.5.4.9"), "STREET"),
    (oid("2.5.4.10"), "O"),
    (oid("2.5.4.11"), "OU"),
    (oid("2.5.4.12"), "TITLE"),
    (oid("2.5.4.4"), "SN"),
    (oid("2.5.4.42"), "GN"),
    (oid("2.5.4.43"), "INITIALS"),
    (oid("2.5.4.44"), "GENERATIONQUALIFIER"),
    (oid("2.5.4.46"), "DNQUALIFIER"),
    (oid("2.5.4.5"), "SERIALNUMBER"),
    (oid("2.5.4.17"), "POSTALCODE"),
    (oid("2.5.4.41"), "NAME"),
    (oid("2.5.4.13"), "DESCRIPTION"),
    (oid("2.5.4.15"), "BUSINESSCATEGORY"),
    (oid("2.5.4.65"), "PSEUDONYM"),
    (oid("0.9.2342.19200300.100.1.25"), "DC"),
    (oid("0.9.2342.19200300.100.1.1"), "UID"),
    (oid("1.2.840.113549.1.9.1"), "EMAIL"),
];

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

fn known(oid: &ObjectIdentifier) -> Option<&'static str> {
    NAMES.iter().find(|(o, _)| o == oid).map(|(_, n)| *n)
}

/// One `TYPE=value`, escaped as RFC 4514 says.
pub(crate) fn attribute(atv: &AttributeTypeAndValue) -> String {
    let value = &atv.value;
    let text = match value.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Utf8String => Utf8StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok().map(|s| s.as_str()),
        _ => None,
    };
    let mut out = String::new();
    match (known(&atv.oid), text) {
        (Some(key), Some(text)) => {
            out.push_str(key);
            out.push('=');
            let mut chars = text.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '#' if i == 0 => out.push_str("\\#"),
                    ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
                    '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\x00'..='\x1f' | '\x7f' => {
                        let _ = write!(out, "\\{:02x}", c as u8);
                    }
                    _ => out.push(c),
                }
            }
        }
        _ => {
            let _ = write!(out, "{}=#", atv.oid);
            for b in value.to_der().unwrap_or_default() {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
    out
}

/// Most significant attribute first, joined by `", "`: OpenSSL's order, as in the `-subj` flag
/// of the seed guide.
pub(crate) fn openssl_order(name: &Name) -> String {
    name.as_ref()
        .iter()
        .flat_map(|rdn| rdn.as_ref().iter())
        .map(attribute)
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 4514's order (least significant first), multi-valued parts joined by `+`: x509-cert's
/// `Display` of a name.
pub(crate) fn rfc4514(name: &Name) -> String {
    let rdns: Vec<_> = name.as_ref().iter().collect();
    rdns.into_iter()
        .rev()
        .map(|rdn| {
            rdn.as_ref()
                .iter()
                .map(attribute)
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::Any;

    fn atv(oid: ObjectIdentifier, value: Any) -> AttributeTypeAndValue {
        AttributeTypeAndValue { oid, value }
    }

    fn utf8(s: &str) -> Any {
        Any::encode_from(&Utf8StringRef::new(s).unwrap()).unwrap()
    }

    /// Every attribute of the table, with values that need escaping, written as x509-cert's
    /// `Display` (and so `const_oid`'s database) writes them.
    #[test]
    fn the_table_writes_what_x509_cert_writes() {
        let values = [
            "device-01",
            "#lead",
            " both ",
            "a,b+c;d<e>f\"g\\h",
            "tab\there\u{7f}",
            "ünïcödé",
        ];
        for (oid, _) in NAMES {
            for v in values {
                let a = atv(*oid, utf8(v));
                assert_eq!(attribute(&a), a.to_string(), "{oid} {v:?}");
            }
            let p = atv(
                *oid,
                Any::encode_from(&PrintableStringRef::new("Contoso Ltd").unwrap()).unwrap(),
            );
            assert_eq!(attribute(&p), p.to_string(), "{oid} printable");
        }
    }

    /// An attribute outside the table, or a value that is no string: the OID and the DER in hex,
    /// as x509-cert writes one outside its database.
    #[test]
    fn others_are_written_as_oid_and_der() {
        let unknown = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.7.1");
        let a = atv(unknown, utf8("x"));
        assert_eq!(attribute(&a), "1.3.6.1.4.1.55555.7.1=#0c0178");
        assert_eq!(attribute(&a), a.to_string());
        let int = atv(oid("2.5.4.3"), Any::encode_from(&5u8).unwrap());
        assert_eq!(attribute(&int), "2.5.4.3=#020105");
        assert_eq!(attribute(&int), int.to_string());
    }

    #[test]
    fn names_in_both_orders() {
        let name: Name = "CN=hub-root+OU=iot,O=Contoso\\, Ltd,C=NL".parse().unwrap();
        assert_eq!(rfc4514(&name), name.to_string());
        // A multi-valued part in DER's order of a SET.
        assert_eq!(rfc4514(&name), "OU=iot+CN=hub-root,O=Contoso\\, Ltd,C=NL");
        assert_eq!(
            openssl_order(&name),
            "C=NL, O=Contoso\\, Ltd, OU=iot, CN=hub-root"
        );
    }
}
