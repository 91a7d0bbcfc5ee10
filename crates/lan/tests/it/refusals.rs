//! What the server refuses: a forged or ended session, a wrong password, another protocol,
//! a role's limits, a password sent in the clear.

use std::time::Duration;

use kartika_lan::{Client, LanError, Operation, Refusal, PROTOCOL_HEADER};

use crate::support::{patient, Running, PASSWORD};

fn queue_counts() -> Operation {
    Operation::QueueCounts
}

#[test]
fn a_forged_token_is_no_session() {
    let server = Running::start();
    let client = server.client();
    let forged = "00".repeat(32);
    let err = client.call(&forged, queue_counts()).unwrap_err();
    assert!(matches!(err, LanError::SessionEnded), "{err:?}");
}

#[test]
fn a_session_idle_too_long_has_ended() {
    let server = Running::start_with(|config| config.session_idle = Duration::from_secs(3600));
    let (client, me) = server.login("desk1");
    client
        .call(&me.token, queue_counts())
        .expect("works while fresh");
    server.clock.advance(time::Duration::hours(2));
    let err = client.call(&me.token, queue_counts()).unwrap_err();
    assert!(matches!(err, LanError::SessionEnded), "{err:?}");
}

#[test]
fn a_logged_out_token_ends() {
    let server = Running::start();
    let (client, me) = server.login("desk1");
    client
        .call(&me.token, queue_counts())
        .expect("works while logged in");
    client.logout(&me.token).unwrap();
    let err = client.call(&me.token, queue_counts()).unwrap_err();
    assert!(matches!(err, LanError::SessionEnded), "{err:?}");
}

#[test]
fn a_wrong_password_is_refused_and_five_make_the_account_wait() {
    let server = Running::start();
    let client = server.client();
    for _ in 0..4 {
        let err = client.login("desk1", "salah").unwrap_err();
        assert!(
            matches!(err, LanError::Refused(Refusal::LoginFailed)),
            "{err:?}"
        );
    }
    let err = client.login("desk1", "salah").unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::LoginLocked { minutes }) if minutes >= 1),
        "{err:?}"
    );
    let err = client.login("desk1", PASSWORD).unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::LoginLocked { .. })),
        "the right password waits too: {err:?}"
    );
}

#[test]
fn a_nurse_cannot_register_a_patient_through_the_server() {
    let server = Running::start();
    let (client, nurse) = server.login("nurse");
    let err = client
        .call(
            &nurse.token,
            Operation::CreatePatient {
                patient: Box::new(patient(1)),
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::NotAllowed { .. })),
        "{err:?}"
    );
}

#[test]
fn a_workstation_of_another_protocol_is_told_to_update() {
    let server = Running::start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(format!("{}/v1/facility", server.url))
        .header(PROTOCOL_HEADER, "0")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 426);
    let body = response.body_mut().read_to_string().unwrap();
    assert!(
        body.contains("install the server's version of Kartika"),
        "{body}"
    );
}

#[test]
fn passwords_are_not_sent_in_the_clear_to_another_pc() {
    let err = Client::new("http://192.168.1.20:8443", None)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("use https"), "{err}");
    Client::new("http://127.0.0.1:8443", None).expect("this PC's own server is fine");
}

#[test]
fn a_server_that_is_off_is_said_so() {
    // A port nobody listens on: bound, then let go. On 127.0.0.2, another loopback
    // address: the servers of the tests running beside this one listen on 127.0.0.1 and
    // may be given the same port the moment it is let go.
    let addr = std::net::TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::new(&format!("http://{addr}"), None).unwrap();
    let err = client.login("desk1", PASSWORD).unwrap_err();
    assert!(matches!(err, LanError::Unreachable { .. }), "{err:?}");
}

#[test]
fn the_set_aside_records_are_an_admins_and_the_sync_health_everyones() {
    let server = Running::start();
    for user in ["nurse", "desk1"] {
        let (client, me) = server.login(user);
        let err = client
            .call(&me.token, Operation::SyncDetails { resend: Vec::new() })
            .unwrap_err();
        assert!(
            matches!(err, LanError::Refused(Refusal::NotAllowed { .. })),
            "{user}: {err:?}"
        );
        let health = client
            .call(&me.token, Operation::SyncHealth)
            .expect("health");
        assert!(
            matches!(health, kartika_lan::Answer::SyncHealth(_)),
            "{health:?}"
        );
    }
    let (client, admin) = server.login("admin");
    let details = client
        .call(&admin.token, Operation::SyncDetails { resend: Vec::new() })
        .expect("the admin reads them");
    assert!(
        matches!(details, kartika_lan::Answer::SyncDetails(..)),
        "{details:?}"
    );
}

#[test]
fn a_server_without_an_authority_lets_no_pc_ask_to_join() {
    // The --tls-cert fallback: no authority to vouch for workstations.
    let server = Running::start();
    let client = server.client();
    let err = client.ask_to_join("Loket 1", &[4; 65]).unwrap_err();
    assert!(err.to_string().contains("cannot join"), "{err}");
    let mut store = server.store();
    let admin = store.login("admin", PASSWORD).unwrap();
    assert!(
        store.list_workstations(&admin).unwrap().is_empty(),
        "nothing reached the store"
    );
}

#[test]
fn a_search_carries_a_few_queries_not_many() {
    let server = Running::start();
    let (client, me) = server.login("desk1");
    let query = || kartika_store::PatientQuery::Name {
        name: "siti".into(),
        birth_date: None,
    };
    client
        .call(
            &me.token,
            Operation::Search {
                queries: vec![query(); 5],
            },
        )
        .expect("five are a desk's");
    let err = client
        .call(
            &me.token,
            Operation::Search {
                queries: vec![query(); 6],
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::Invalid { .. })),
        "{err:?}"
    );
}

#[test]
fn only_an_admin_sets_satusehat_up_and_the_secret_stays_beside_the_store() {
    let server = Running::start();
    let link = kartika_store::SatusehatLink {
        auth_url: "https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1".into(),
        fhir_url: "https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1".into(),
        client_id: "kartika-pamulang".into(),
        organization_id: "10000004".into(),
        pace: 5,
    };
    let setup = |secret: &str| Operation::SatusehatSetup {
        link: link.clone(),
        secret: Some(kartika_satusehat::Secret::new(secret)),
        ca_pem: None,
    };
    let secret_file = server.db.with_file_name(kartika_satusehat::SECRET_FILE);
    let (desk, me) = server.login("desk1");
    let err = desk.call(&me.token, setup("dari-meja")).unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::NotAllowed { .. })),
        "{err:?}"
    );
    assert!(!secret_file.exists(), "a desk writes no secret");

    let (pc, admin) = server.login("admin");
    pc.call(&admin.token, setup("rahasia-admin")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        "rahasia-admin"
    );
    let stored = std::fs::read(&server.db).unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("rahasia-admin"));
}

#[test]
fn only_an_admin_merges_patients_over_the_lan() {
    let server = Running::start();
    let (admin_client, admin) = server.login("admin");
    let twin = || -> String {
        let kartika_lan::Answer::Created { created, .. } = admin_client
            .call(
                &admin.token,
                Operation::CreatePatient {
                    patient: Box::new(patient(7)),
                },
            )
            .unwrap()
        else {
            panic!("no patient");
        };
        created.patient.patient_number
    };
    let (keep, retire) = (twin(), twin());
    let merge = Operation::Duplicates {
        change: Some(kartika_lan::MergeChange::Merge {
            keep: keep.clone(),
            retire: retire.clone(),
            take: Vec::new(),
        }),
    };
    for user in ["nurse", "desk1"] {
        let (client, me) = server.login(user);
        let err = client.call(&me.token, merge.clone()).unwrap_err();
        assert!(
            matches!(err, LanError::Refused(Refusal::NotAllowed { .. })),
            "{user}: {err:?}"
        );
    }
    let plan = admin_client
        .call(
            &admin.token,
            Operation::PlanMerge {
                keep: keep.clone(),
                retire: retire.clone(),
                take: Vec::new(),
            },
        )
        .unwrap();
    assert!(
        matches!(plan, kartika_lan::Answer::MergePlan(_)),
        "{plan:?}"
    );
    let kartika_lan::Answer::Duplicates(view) = admin_client.call(&admin.token, merge).unwrap()
    else {
        panic!("the admin's merge answers the duplicates");
    };
    assert_eq!(view.merges.len(), 1);
    assert_eq!(
        (
            view.merges[0].survivor.as_str(),
            view.merges[0].retired.as_str()
        ),
        (keep.as_str(), retire.as_str())
    );
}
