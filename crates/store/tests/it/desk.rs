//! What the registration desk sees: a patient's last visit, the numbers they already hold
//! today, duplicate flags, the people ahead in the queue, and today's counts per unit.

use kartika_store::{StoreError, VisitStatus};
use time::Duration;

use crate::support::{numbered, siti, Clinic};

#[test]
fn the_desk_sees_the_last_visit_and_todays_number_for_a_reprint() {
    let mut clinic = Clinic::new();
    let siti = clinic.patient(&siti());
    let first = clinic.store.desk_patient(&clinic.desk, &siti).unwrap();
    assert_eq!(first.last_visit, None);
    assert!(first.today.is_empty());

    let yesterday = clinic.visit(&siti, "dental");
    clinic.clock.advance(Duration::days(1));
    let today = clinic.visit(&siti, "general");
    let desk = clinic.store.desk_patient(&clinic.desk, &siti).unwrap();
    let last = desk.last_visit.expect("yesterday's visit");
    assert_eq!(last.date, yesterday.queue_date);
    assert_eq!(last.unit_name.as_deref(), Some("Poli Gigi"));
    assert_eq!(desk.today.len(), 1, "today's number is not the last visit");
    assert_eq!(desk.today[0].ticket, today.ticket);
    assert_eq!(desk.today[0].visit_id, today.visit_id);

    // A cancelled number is no longer held.
    clinic
        .store
        .set_visit_status(&clinic.desk, &today.visit_id, VisitStatus::Cancelled)
        .unwrap();
    let desk = clinic.store.desk_patient(&clinic.desk, &siti).unwrap();
    assert!(desk.today.is_empty());
}

#[test]
fn a_ticket_says_how_many_wait_ahead() {
    let mut clinic = Clinic::new();
    let numbers: Vec<String> = (0..4).map(|n| clinic.patient(&numbered(n))).collect();
    let tickets: Vec<_> = numbers.iter().map(|p| clinic.visit(p, "general")).collect();
    let ahead: Vec<i64> = tickets.iter().map(|t| t.waiting_ahead).collect();
    assert_eq!(ahead, [0, 1, 2, 3]);
    clinic
        .store
        .set_visit_status(&clinic.nurse, &tickets[0].visit_id, VisitStatus::InProgress)
        .unwrap();
    let desk = clinic
        .store
        .desk_patient(&clinic.desk, &numbers[3])
        .unwrap();
    assert_eq!(
        desk.today[0].waiting_ahead, 2,
        "the one being seen no longer waits"
    );
}

#[test]
fn todays_counts_per_unit_follow_the_visits() {
    let mut clinic = Clinic::new();
    let a = clinic.patient(&numbered(1));
    let b = clinic.patient(&numbered(2));
    let seen = clinic.visit(&a, "general");
    clinic.visit(&b, "general");
    clinic.visit(&b, "dental");
    clinic
        .store
        .set_visit_status(&clinic.nurse, &seen.visit_id, VisitStatus::InProgress)
        .unwrap();
    let counts = clinic.store.queue_counts(&clinic.desk).unwrap();
    let general = counts.iter().find(|u| u.unit_code == "general").unwrap();
    assert_eq!(
        (general.waiting, general.in_progress, general.finished),
        (1, 1, 0)
    );
    let dental = counts.iter().find(|u| u.unit_code == "dental").unwrap();
    assert_eq!(
        (dental.waiting, dental.in_progress, dental.finished),
        (1, 0, 0)
    );
    assert_eq!(counts.len(), 6, "every unit is listed, busy or not");

    clinic.clock.advance(Duration::days(1));
    let tomorrow = clinic.store.queue_counts(&clinic.desk).unwrap();
    assert!(
        tomorrow.iter().all(|u| u.waiting == 0),
        "a new day, a new queue"
    );
}

#[test]
fn duplicate_flags_show_on_both_patients() {
    let mut clinic = Clinic::new();
    let first = clinic.patient(&siti());
    let mut same_person = siti();
    same_person.nik = None;
    let second = clinic.patient(&same_person);
    for number in [&first, &second] {
        let desk = clinic.store.desk_patient(&clinic.desk, number).unwrap();
        assert_eq!(desk.possible_duplicates.len(), 1, "{number}");
    }
}

#[test]
fn counts_need_a_role_that_reads_patients_and_write_no_audit_entry() {
    let mut clinic = Clinic::new();
    let before = clinic
        .store
        .audit_trail(&clinic.admin, None, 1000)
        .unwrap()
        .len();
    clinic.store.queue_counts(&clinic.nurse).unwrap();
    let after = clinic
        .store
        .audit_trail(&clinic.admin, None, 1000)
        .unwrap()
        .len();
    assert_eq!(
        before + 1,
        after,
        "only the admin's own reading of the trail is audited"
    );
    // A session outlives its account being disabled, not its use.
    clinic.store.disable_staff(&clinic.admin, "desk").unwrap();
    assert!(matches!(
        clinic.store.queue_counts(&clinic.desk),
        Err(StoreError::LoginFailed)
    ));
}
