//! The handover JSON the whole app reads from the page's first module (`pki::Handoff`): read,
//! written back and read again the same, then what installing it reads: every CA of its
//! workspace restored (certificate, key, the CAs above), every device certificate, and the
//! verification certificate.
#![no_main]
use hubcert::pki::{Certificate, Handoff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(h) = Handoff::from_json(text) else {
        return;
    };
    let again = Handoff::from_json(&h.to_json().expect("writes")).expect("reads back");
    assert_eq!(again.drafts, h.drafts);
    assert_eq!(again.focus, h.focus);
    assert_eq!(again.open, h.open);
    if let Some(w) = &h.workspace {
        for ca in &w.cas {
            let _ = ca.restore();
        }
        for d in &w.devices {
            let _ = Certificate::from_pem(&d.certificate);
        }
    }
    if let Some(v) = &h.verification {
        let _ = Certificate::from_pem(v);
    }
});
