//! A write whose answer is lost is sent again with its request id and done once.

use kartika_lan::{Answer, Client, Operation};
use kartika_testkit::proxy::LosesAnswers;

use crate::support::{patient, visit, Running, PASSWORD};

fn count(server: &Running, table: &str) -> i64 {
    server
        .sql()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_write_sent_again_with_its_request_id_is_answered_from_what_was_kept() {
    let server = Running::start();
    let (client, me) = server.login("desk1");
    let id = kartika_lan::client::new_request_id();
    let create = || Operation::CreatePatient {
        patient: Box::new(patient(7)),
    };
    let first = client.call_with_id(&me.token, create(), id).unwrap();
    let again = client.call_with_id(&me.token, create(), id).unwrap();
    let (Answer::Created { created: a, .. }, Answer::Created { created: b, .. }) = (first, again)
    else {
        panic!("not created");
    };
    assert_eq!(a.patient.patient_number, b.patient.patient_number);
    assert_eq!(count(&server, "patient"), 1, "one patient, not two");

    let register = || Operation::RegisterVisit {
        visit: visit(&a.patient.patient_number, "general"),
    };
    let id = kartika_lan::client::new_request_id();
    let first = client.call_with_id(&me.token, register(), id).unwrap();
    let again = client.call_with_id(&me.token, register(), id).unwrap();
    let (Answer::Registered(a), Answer::Registered(b)) = (first, again) else {
        panic!("not registered");
    };
    assert_eq!(a, b, "the same ticket, not 'already queued'");
    assert_eq!(count(&server, "visit"), 1);
}

#[test]
fn answers_lost_after_the_commit_cost_nothing_twice() {
    let server = Running::start();
    // Every other connection loses its answer, ten times.
    let proxy = LosesAnswers::start(server.addr, 10);
    let client = Client::new(&proxy.url, None).unwrap();
    let me = client
        .login("desk1", PASSWORD)
        .expect("login through the proxy");
    let mut numbers = Vec::new();
    for n in 0..5 {
        let Answer::Created { created, .. } = client
            .call(
                &me.token,
                Operation::CreatePatient {
                    patient: Box::new(patient(n)),
                },
            )
            .expect("created despite the lost answer")
        else {
            panic!("not created");
        };
        let Answer::Registered(ticket) = client
            .call(
                &me.token,
                Operation::RegisterVisit {
                    visit: visit(&created.patient.patient_number, "general"),
                },
            )
            .expect("registered despite the lost answer")
        else {
            panic!("not registered");
        };
        numbers.push(ticket.queue_number);
    }
    assert_eq!(
        proxy.lost.load(std::sync::atomic::Ordering::SeqCst),
        10,
        "the proxy lost ten answers"
    );
    assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
    assert_eq!(count(&server, "patient"), 5, "each patient once");
    assert_eq!(count(&server, "visit"), 5, "each visit once");
}

#[test]
fn a_kept_answer_goes_back_only_to_its_own_session_and_request() {
    let server = Running::start();
    let (desk, me) = server.login("desk1");
    let Answer::Created { created, .. } = desk
        .call(
            &me.token,
            Operation::CreatePatient {
                patient: Box::new(patient(8)),
            },
        )
        .unwrap()
    else {
        panic!("not created");
    };
    let number = created.patient.patient_number;
    let id = kartika_lan::client::new_request_id();
    desk.call_with_id(
        &me.token,
        Operation::RegisterVisit {
            visit: visit(&number, "general"),
        },
        id,
    )
    .expect("registered");
    // A nurse's session reusing the desk's id, for another unit, and the desk itself asking
    // something else under it: refused, never answered with the desk's ticket (nor
    // registered: the nurse may not).
    let (nurse, her) = server.login("nurse");
    for (client, token) in [(&nurse, &her.token), (&desk, &me.token)] {
        let err = client
            .call_with_id(
                token,
                Operation::RegisterVisit {
                    visit: visit(&number, "dental"),
                },
                id,
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                kartika_lan::LanError::Refused(kartika_lan::Refusal::Conflict { .. })
            ),
            "{err:?}"
        );
    }
    assert_eq!(count(&server, "visit"), 1);
}
