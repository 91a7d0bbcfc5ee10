//! Many desks at once: numbers unbroken per unit, every visit audited and queued for the
//! registry, one visit for one patient however many desks register them.

use std::sync::{Arc, Barrier};

use kartika_lan::{Answer, LanError, Operation, Refusal};
use kartika_store::VisitTicket;

use crate::support::{patient, visit, Running, PASSWORD};

const UNITS: [&str; 3] = ["general", "dental", "maternal_child"];

#[test]
fn eight_desk_processes_register_two_thousand_visits_at_once_with_unbroken_numbers() {
    const DESKS: usize = 8;
    const VISITS_EACH: usize = 250;
    let server = Running::start();
    // Eight processes, each its own login and connections, started together.
    let desks: Vec<_> = (1..=DESKS)
        .map(|desk| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kartika-lan-load"))
                .args([
                    "--server",
                    &server.url,
                    "--user",
                    &format!("desk{desk}"),
                    "--visits",
                    &VISITS_EACH.to_string(),
                    "--units",
                    &UNITS.join(","),
                    "--tag",
                    &desk.to_string(),
                ])
                .env("KARTIKA_PASSWORD", PASSWORD)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start a desk process")
        })
        .collect();
    let tickets: Vec<VisitTicket> = desks
        .into_iter()
        .flat_map(|desk| {
            let out = desk.wait_with_output().expect("a desk process");
            assert!(out.status.success(), "a desk process failed");
            serde_json::from_slice::<Vec<VisitTicket>>(&out.stdout).expect("its tickets")
        })
        .collect();
    assert_eq!(tickets.len(), DESKS * VISITS_EACH);

    let sql = server.sql();
    for unit in UNITS {
        let mut numbers: Vec<i64> = sql
            .prepare("SELECT queue_number FROM visit WHERE unit_code = ?1 ORDER BY queue_number")
            .unwrap()
            .query_map([unit], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let handed_out = tickets.iter().filter(|t| t.unit_code == unit).count();
        assert_eq!(numbers.len(), handed_out, "{unit}: one visit per ticket");
        let expected: Vec<i64> = (1..=handed_out as i64).collect();
        numbers.dedup();
        assert_eq!(
            numbers, expected,
            "{unit}: numbers 1..n, none twice, none skipped"
        );
    }
    let count = |query: &str| -> i64 { sql.query_row(query, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'visit.register'"),
        (DESKS * VISITS_EACH) as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE kind = 'visit'"),
        (DESKS * VISITS_EACH) as i64
    );
    let report = server.store().verify_audit().expect("verify");
    assert_eq!(report.problem, None, "{report:?}");
}

#[test]
fn eight_desks_registering_one_patient_at_one_unit_give_one_visit_and_one_ticket() {
    let server = Running::start();
    let (client, me) = server.login("desk1");
    let Answer::Created { created, .. } = client
        .call(
            &me.token,
            Operation::CreatePatient {
                patient: Box::new(patient(1)),
            },
        )
        .unwrap()
    else {
        panic!("no patient");
    };
    let patient_number = created.patient.patient_number;
    let start = Arc::new(Barrier::new(8));
    let desks: Vec<_> = (1..=8)
        .map(|desk| {
            let (client, me) = server.login(&format!("desk{desk}"));
            let (start, patient_number) = (Arc::clone(&start), patient_number.clone());
            std::thread::spawn(move || {
                start.wait();
                client.call(
                    &me.token,
                    Operation::RegisterVisit {
                        visit: visit(&patient_number, "general"),
                    },
                )
            })
        })
        .collect();
    let mut tickets = Vec::new();
    let mut registered = 0;
    for desk in desks {
        match desk.join().unwrap() {
            Ok(Answer::Registered(ticket)) => {
                registered += 1;
                tickets.push(ticket.ticket);
            }
            Err(LanError::Refused(Refusal::AlreadyQueued { ticket, .. })) => tickets.push(ticket),
            other => panic!("neither a ticket nor the ticket held: {other:?}"),
        }
    }
    assert_eq!(registered, 1, "one desk registers the visit");
    tickets.dedup();
    assert_eq!(
        tickets,
        vec!["U-001".to_owned()],
        "every desk shows the same ticket"
    );
    let visits: i64 = server
        .sql()
        .query_row("SELECT COUNT(*) FROM visit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(visits, 1);
}
