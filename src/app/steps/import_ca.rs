//! An existing CA, imported.

use super::*;
use crate::pki::{
    bundle_error_slot, ca_file_loaded, key_error_slot, key_not_pem, pfx_import_error,
    Field as PkiField, ImportSlot, NO_CA_KEY,
};

#[derive(Properties, PartialEq)]
pub(crate) struct ImportCaProps {
    pub(crate) oncreated: Callback<(SharedCa, Rc<Issued>)>,
}

/// The form's element id for a field.
fn slot_id(slot: ImportSlot) -> &'static str {
    match slot {
        ImportSlot::Certificate => "imp-cert",
        ImportSlot::Key => "imp-key",
        ImportSlot::Password => "imp-password",
    }
}

/// The form's typed state.
#[derive(Clone)]
struct ImportForm {
    cert_text: UseStateHandle<String>,
    cert_der: UseStateHandle<Option<(String, Vec<u8>)>>,
    key_text: UseStateHandle<String>,
    password: UseStateHandle<String>,
    errors: UseStateHandle<FormErrors>,
    oncreated: Callback<(SharedCa, Rc<Issued>)>,
}

/// An existing CA: certificate (PEM or DER) and key (PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8),
/// or a `.pfx` holding both and the chain.
#[component]
pub(crate) fn ImportCa(props: &ImportCaProps) -> Html {
    let form = ImportForm {
        cert_text: use_state(String::new),
        cert_der: use_state(|| None::<(String, Vec<u8>)>),
        key_text: use_state(String::new),
        password: use_state(String::new),
        errors: use_state(FormErrors::default),
        oncreated: props.oncreated.clone(),
    };
    let ImportForm {
        cert_text,
        cert_der,
        key_text,
        password,
        errors,
        ..
    } = &form;
    let on_cert_file = pem_or_der_file(cert_text, cert_der, errors, "imp-cert");
    let on_key_file = {
        let (key_text, errors) = (key_text.clone(), errors.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let (key_text, errors) = (key_text.clone(), errors.clone());
            yew::platform::spawn_local(async move {
                match read_file(input).await.and_then(|(name, bytes)| {
                    String::from_utf8(bytes).map_err(|_| key_not_pem(&name))
                }) {
                    Ok(text) => key_text.set(text),
                    Err(e) => errors.set(FormErrors::only("imp-key", e)),
                }
            });
        })
    };
    let on_password = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    let onsubmit = {
        let form = form.clone();
        submit(Callback::from(move |()| form.import()))
    };
    let field_error = |id: &'static str| {
        errors
            .field(id)
            .map(|e| html! { <p class="error" id={format!("{id}-error")} role="alert">{e}</p> })
    };

    html! {
        <details class="card import" id="ca-import">
            <summary>{"Or import an existing CA (certificate and key, or a .pfx)"}</summary>
            <form class="form" {onsubmit} novalidate=true>
                <div class="grid">
                    <div class="field">
                        <label for="imp-cert">{"CA certificate (PEM; a chain file with the CAs above it is fine)"}</label>
                        <textarea autocomplete="off" id="imp-cert" class="mono" rows="5" value={(**cert_text).clone()} oninput={textarea_setter(cert_text)} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                        <label class="file">{"or a file (.pem, .cer, .crt, .der, a .p7b/.p7c chain, or a .pfx/.p12 with its key): "}<input type="file" id="imp-cert-file" accept=".pem,.cer,.crt,.der,.p7b,.p7c,.pfx,.p12" onchange={on_cert_file} /></label>
                        if let Some((name, bytes)) = &**cert_der {
                            <p class="hint" id="imp-cert-loaded">{ ca_file_loaded(name, crate::pki::looks_like_pkcs12(bytes)) }</p>
                        }
                        { field_error("imp-cert") }
                    </div>
                    <div class="field">
                        <label for="imp-key">{"CA private key (PEM: PKCS#8, PKCS#1 RSA, EC or encrypted)"}</label>
                        <textarea id="imp-key" class="mono" rows="5" autocomplete="off" value={(**key_text).clone()} oninput={textarea_setter(key_text)} spellcheck="false" placeholder="-----BEGIN PRIVATE KEY-----" />
                        <label class="file">{"or a file: "}<input type="file" id="imp-key-file" accept=".key,.pem" onchange={on_key_file} /></label>
                        { field_error("imp-key") }
                    </div>
                </div>
                <Field id="imp-password" label="Password (encrypted key or .pfx)" kind="password" value={(**password).clone()} oninput={on_password} error={errors.field("imp-password")} />
                <p class="hint">{"The key stays in this page: it is read here and never sent anywhere."}</p>
                <div class="actions">
                    <button type="submit" class="primary" id="imp-submit">{"Import CA"}</button>
                </div>
            </form>
        </details>
    }
}

impl ImportForm {
    /// "Import CA": a `.pfx`, or a certificate (or bundle) with its key.
    fn import(&self) {
        let mut errs = FormErrors::default();
        // A .pfx in the certificate slot brings its key and chain: the key field is not used.
        if let Some((name, bytes)) = self
            .cert_der
            .as_ref()
            .filter(|(_, b)| crate::pki::looks_like_pkcs12(b))
        {
            if self.password.is_empty() {
                errs.add("imp-password", format!("Enter the password of {name}."));
                return self.errors.set(errs);
            }
            let made = crate::pki::import_pkcs12(bytes, &self.password)
                .and_then(|p| CertificateAuthority::import(p.certificate, p.key, p.chain));
            match made.and_then(imported_card) {
                Ok(r) => {
                    self.password.set(String::new());
                    self.oncreated.emit(r)
                }
                Err(e) => {
                    let (slot, message) = pfx_import_error(e);
                    errs.add(slot_id(slot), message);
                }
            }
            return self.errors.set(errs);
        }
        // One certificate, or a bundle (chain file, .p7b) holding it and the CAs above it.
        let certs = match &*self.cert_der {
            Some((_, bytes)) => crate::pki::certificates_from_bytes(bytes),
            None if self.cert_text.trim().is_empty() => Err(PkiError::FieldEmpty {
                field: PkiField::CaCertificate,
            }),
            None => crate::pki::certificates_from_bytes(self.cert_text.as_bytes()),
        }
        .map_err(|e| errs.add("imp-cert", e))
        .ok();
        let key = if self.key_text.trim().is_empty() {
            errs.add("imp-key", NO_CA_KEY);
            None
        } else {
            let pw = (!self.password.is_empty()).then_some(self.password.as_str());
            crate::pki::KeyPair::from_any_pem(&self.key_text, pw)
                .map_err(|e| errs.add(slot_id(key_error_slot(&e)), e))
                .ok()
        };
        if let (Some(certs), Some(key)) = (certs, key) {
            match CertificateAuthority::import_bundle(certs, key).and_then(imported_card) {
                Ok(r) => {
                    // The key is in the CA now: it does not stay in the form, where a
                    // browser's session restore would write it to disk.
                    self.key_text.set(String::new());
                    self.password.set(String::new());
                    self.oncreated.emit(r)
                }
                Err(e) => errs.add(slot_id(bundle_error_slot(&e)), e),
            }
        }
        self.errors.set(errs);
    }
}
