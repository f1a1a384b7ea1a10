use super::*;
use crate::iothub::testing::{run, Script};
use crate::iothub::Method;
use std::cell::RefCell;

fn cert(etag: &str, code: Option<&str>, verified: bool) -> String {
    let mut props = serde_json::json!({"subject": "CN=Root", "expiry": "x", "thumbprint": "AB", "isVerified": verified});
    if let Some(c) = code {
        props["verificationCode"] = c.into();
    }
    serde_json::json!({"name": "root", "etag": etag, "properties": props}).to_string()
}

fn arm() -> Arm {
    Arm::new("http://127.0.0.1:1", "sub", "rg", "hub", "tok").unwrap()
}

/// Proof of possession over `script`, signing with a stand-in PEM.
fn possess(script: &Script) -> Result<Possession, RestError> {
    run(HubClient::new(script, true).prove_possession(
        &arm(),
        "root",
        |_: VerificationCode| async { Ok::<_, String>("PEM".into()) },
        |_| {},
    ))
}

const STALE: &str = r#"{"code":"IH412001","message":"Invalid ETag"}"#;

#[test]
fn possession_reads_asks_signs_verifies_with_each_fresh_etag() {
    let (e1, e2, e3) = (
        cert("e1", None, false),
        cert("e2", Some("C0DE"), false),
        cert("e3", None, true),
    );
    let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e2)), Ok((200, &e3))]);
    let stages = RefCell::new(Vec::new());
    let signed = RefCell::new(String::new());
    let out = run(HubClient::new(&script, true).prove_possession(
        &arm(),
        "root",
        |code: VerificationCode| {
            *signed.borrow_mut() = code.to_string();
            async { Ok::<_, String>("PEM".into()) }
        },
        |s| stages.borrow_mut().push(s),
    ))
    .unwrap();
    assert!(out.certificate.is_verified && !out.retried);
    assert_eq!(
        (out.code.as_str(), signed.borrow().as_str()),
        ("C0DE", "C0DE")
    );
    let sent = script.sent.borrow();
    let calls: Vec<_> = sent
        .iter()
        .map(|r| {
            (
                r.method,
                r.url
                    .split('?')
                    .next()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                r.header("If-Match").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            (Method::Get, "root".into(), None),
            (
                Method::Post,
                "generateVerificationCode".into(),
                Some("e1".into())
            ),
            (Method::Post, "verify".into(), Some("e2".into())),
        ]
    );
    assert_eq!(sent[2].body.as_deref(), Some(r#"{"certificate":"PEM"}"#));
    use PossessionStage::*;
    assert_eq!(
        *stages.borrow(),
        vec![Reading, RequestingCode, Signing, Verifying]
    );
}

#[test]
fn a_stale_etag_at_verify_is_read_again_and_retried_once() {
    let (e1, e2, e9, ok) = (
        cert("e1", None, false),
        cert("e2", Some("C0DE"), false),
        cert("e9", Some("C0DE"), false),
        cert("e10", None, true),
    );
    let script = Script::new(vec![
        Ok((200, &e1)),
        Ok((200, &e2)),
        Ok((412, STALE)),
        Ok((200, &e9)),
        Ok((200, &ok)),
    ]);
    let out = possess(&script).unwrap();
    assert!(out.retried);
    let sent = script.sent.borrow();
    assert_eq!(sent[4].header("If-Match"), Some("e9"));
}

#[test]
fn a_second_stale_etag_is_shown_not_retried_forever() {
    let (e1, e2, e9) = (
        cert("e1", None, false),
        cert("e2", Some("C0DE"), false),
        cert("e9", None, false),
    );
    let script = Script::new(vec![
        Ok((200, &e1)),
        Ok((200, &e2)),
        Ok((412, STALE)),
        Ok((200, &e9)),
        Ok((412, STALE)),
    ]);
    let err = possess(&script).unwrap_err();
    assert_eq!(err.status(), Some(412));
    assert!(err.to_string().contains("etag was stale"), "{err}");
    assert_eq!(script.sent.borrow().len(), 5);
}

#[test]
fn signing_failure_and_missing_code_and_no_answer_each_say_so() {
    let (e1, e2) = (cert("e1", None, false), cert("e2", Some("C0DE"), false));
    let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e2))]);
    let err = run(HubClient::new(&script, true).prove_possession(
        &arm(),
        "root",
        |_: VerificationCode| async { Err::<String, _>("the CA has expired") },
        |_| {},
    ))
    .unwrap_err();
    assert!(err.to_string().contains("the CA has expired"), "{err}");

    let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e1))]);
    let err = possess(&script).unwrap_err();
    assert!(err.to_string().contains("no verification code"), "{err}");

    let script = Script::new(vec![Err("Failed to fetch")]);
    let err = run(HubClient::new(&script, false).certificates(&arm())).unwrap_err();
    assert!(matches!(
        err,
        RestError::Unreachable {
            plane: Plane::Arm,
            localhub: false,
            ..
        }
    ));
    assert!(err.to_string().contains("Failed to fetch"), "{err}");
}

#[test]
fn delete_reads_the_etag_and_retries_a_stale_one_once() {
    let (e1, e2) = (cert("e1", None, true), cert("e2", None, true));
    let script = Script::new(vec![
        Ok((200, &e1)),
        Ok((412, STALE)),
        Ok((200, &e2)),
        Ok((204, "")),
    ]);
    assert!(run(HubClient::new(&script, true).delete_certificate(&arm(), "root")).unwrap());
    let sent = script.sent.borrow();
    assert_eq!(sent[3].method, Method::Delete);
    assert_eq!(sent[3].header("If-Match"), Some("e2"));
}

/// `upload_and_verify` over `script`, for a CA whose SHA-1 thumbprint is `AB`.
fn put_ca(script: &Script) -> Result<CaOnHub, RestError> {
    run(HubClient::new(script, true).upload_and_verify(
        &arm(),
        "root",
        "PEM",
        "ab",
        false,
        |_: VerificationCode| async { Ok::<_, String>("VERIFICATION".into()) },
        |_| {},
    ))
}

#[test]
fn a_new_ca_is_uploaded_then_proven() {
    let script = Script::new(vec![
        Ok((201, &cert("e0", None, false))),
        Ok((200, &cert("e1", None, false))),
        Ok((200, &cert("e2", Some("C0DE"), false))),
        Ok((200, &cert("e3", None, true))),
    ]);
    let done = put_ca(&script).expect("verified");
    assert!(!done.adopted && done.certificate.is_verified);
    assert_eq!(done.possession.map(|p| p.code), Some("C0DE".to_owned()));
    let sent = script.sent.borrow();
    assert_eq!(sent[0].method, Method::Put);
    assert!(sent[3].url.contains("/verify?"), "{}", sent[3].url);
}

#[test]
fn a_taken_name_holding_this_ca_is_adopted_and_another_ca_is_refused() {
    let conflict = r#"{"code":"Conflict","message":"exists"}"#;
    // Same thumbprint and already verified: nothing more to do.
    let script = Script::new(vec![
        Ok((409, conflict)),
        Ok((200, &cert("e1", None, true))),
    ]);
    let done = put_ca(&script).expect("adopted");
    assert!(done.adopted && done.possession.is_none());
    assert_eq!(script.sent.borrow().len(), 2);
    // Same thumbprint, unverified: adopted, then proven.
    let script = Script::new(vec![
        Ok((412, STALE)),
        Ok((200, &cert("e1", None, false))),
        Ok((200, &cert("e1", None, false))),
        Ok((200, &cert("e2", Some("C0DE"), false))),
        Ok((200, &cert("e3", None, true))),
    ]);
    let done = put_ca(&script).expect("adopted and proven");
    assert!(done.adopted && done.possession.is_some());
    // Another CA under that name.
    let other = cert("e1", None, true).replace("\"AB\"", "\"CD\"");
    let script = Script::new(vec![Ok((409, conflict)), Ok((200, &other))]);
    assert_eq!(
        put_ca(&script),
        Err(RestError::NameTaken {
            name: "root".into()
        })
    );
    // Any other failure is the upload's.
    let script = Script::new(vec![Ok((401, "{}"))]);
    assert_eq!(put_ca(&script).map_err(|e| e.status()), Err(Some(401)));
}

fn dps() -> DpsService {
    DpsService::from_connection_string(
        "http://127.0.0.1:1",
        "HostName=d.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=c2VjcmV0",
    )
    .unwrap()
}

fn group_body(etag: &str) -> String {
    let mut g = EnrollmentGroup::x509_signing("fleet", "PEM", None);
    g.etag = Some(etag.into());
    serde_json::to_string(&g).unwrap()
}

#[test]
fn a_new_group_is_created_without_an_etag_an_existing_one_replaced_with_its_own() {
    let group = EnrollmentGroup::x509_signing("fleet", "PEM", None);
    let not_found = r#"{"errorCode":404202,"message":"Enrollment group fleet not found."}"#;
    let script = Script::new(vec![Ok((404, not_found)), Ok((200, &group_body("g1")))]);
    let saved =
        run(HubClient::new(&script, true).save_enrollment_group(&dps(), &group, 0)).unwrap();
    assert!(!saved.replaced && !saved.retried);
    assert_eq!(saved.item.etag.as_deref(), Some("g1"));
    let sent = script.sent.borrow();
    assert_eq!((sent[0].method, sent[1].method), (Method::Get, Method::Put));
    assert_eq!(sent[1].header("If-Match"), None);

    // Present: written with the etag it had; a writer in between costs one re-read.
    let stale = r#"{"errorCode":412002,"message":"Precondition failed."}"#;
    let script = Script::new(vec![
        Ok((200, &group_body("g1"))),
        Ok((412, stale)),
        Ok((200, &group_body("g2"))),
        Ok((200, &group_body("g3"))),
    ]);
    let saved =
        run(HubClient::new(&script, true).save_enrollment_group(&dps(), &group, 0)).unwrap();
    assert!(saved.replaced && saved.retried);
    let sent = script.sent.borrow();
    assert_eq!(sent[1].header("If-Match"), Some("\"g1\""));
    assert_eq!(sent[3].header("If-Match"), Some("\"g2\""));

    // A second stale etag is the user's to see; so is a refused credential, before any write.
    let script = Script::new(vec![
        Ok((200, &group_body("g1"))),
        Ok((412, stale)),
        Ok((200, &group_body("g2"))),
        Ok((412, stale)),
    ]);
    let e =
        run(HubClient::new(&script, true).save_enrollment_group(&dps(), &group, 0)).unwrap_err();
    assert!(e.is_stale_etag(), "{e}");
    let script = Script::new(vec![Ok((
        401,
        r#"{"errorCode":401002,"message":"Unauthorized"}"#,
    ))]);
    let e =
        run(HubClient::new(&script, true).save_enrollment_group(&dps(), &group, 0)).unwrap_err();
    assert!(e.to_string().contains("provisioningserviceowner"), "{e}");
    assert_eq!(script.sent.borrow().len(), 1);
    // No answer at all from Azure's DPS: the relay is named.
    let script = Script::new(vec![Err("Failed to fetch")]);
    let e = run(HubClient::new(&script, false).enrollment_group(&dps(), "fleet", 0)).unwrap_err();
    assert!(e.to_string().contains("relay --dps"), "{e}");
}
