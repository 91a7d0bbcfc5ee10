//! Workstations whose store is on the Puskesmas's server PC: the same screens, the same
//! answers, and each screen following what the others do.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use kartika_app::display::{DisplayApp, DisplayConfig};
use kartika_app::text::Lang;
use kartika_app::workers::remote::ServerLink;
use kartika_lan::{Answer, Client, Operation};
use kartika_store::{Call, Role, VisitStatus};

use crate::support::{App, ServerPc};

#[test]
fn the_desk_registers_on_the_server_and_the_polis_queue_follows() {
    let server_pc = ServerPc::start();
    let mut poli = App::workstation(&server_pc);
    poli.log_in(Role::Nurse);
    poli.until_text("Antrian poli hari ini");
    let visits_before = server_pc.visits();
    let mut desk = App::workstation(&server_pc);
    desk.at_the_desk();
    desk.registers_budi();
    // No click at the poli: the server's news brings Budi into its queue.
    poli.until_budi_waits_in_the_queue();
    assert_eq!(
        server_pc.visits(),
        visits_before + 1,
        "the visit is in the server's store, once"
    );
}

#[test]
fn a_server_switched_off_is_said_so_and_its_return_clears_it() {
    let mut server_pc = ServerPc::start();
    let mut desk = App::workstation(&server_pc);
    desk.at_the_desk();
    server_pc.server.stop();
    desk.until_text("Server Puskesmas");
    assert!(
        desk.shows("tidak menjawab"),
        "the desk is told the server does not answer"
    );
    server_pc.restart();
    desk.until("the banner gone", |h| {
        h.state().state().server_away.is_none()
    });
    // The session was kept by the server's store: the desk works on without a new login.
    desk.registers_budi();
}

#[test]
fn the_waiting_rooms_screen_shows_each_call_by_number_and_unit_and_announces_it_once() {
    let server_pc = ServerPc::start();
    let (told, announced) = mpsc::channel::<Call>();
    let (hook, woken) = mpsc::channel();
    let config = DisplayConfig {
        server: ServerLink::Url {
            url: server_pc.url.clone(),
            ca_pem: None,
        },
        lang: Lang::Id,
        announce: Box::new(move |call: &Call| {
            let _ = told.send(call.clone());
        }),
        wake_hook: Some(hook),
    };
    let mut screen = Harness::builder()
        .with_size([1280.0, 720.0])
        .build_eframe(move |cc| DisplayApp::new(cc, config));
    let until = |screen: &mut Harness<'static, DisplayApp>,
                 what: &str,
                 done: &dyn Fn(&Harness<'static, DisplayApp>) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            screen.run_ok();
            if done(screen) {
                return;
            }
            assert!(Instant::now() < deadline, "gave up waiting for {what}");
            let _ = woken.recv_timeout(Duration::from_millis(200));
        }
    };
    until(&mut screen, "the screen's first answer", &|s| {
        s.query_by_label_contains("Dipanggil").is_some()
    });
    let calls_before = screen.state().calls().len();

    // The nurse calls the next patient at the general poli.
    let nurse = server_pc.account(Role::Nurse);
    let client = Client::new(&server_pc.url, None).unwrap();
    let me = client.login(&nurse.username, &nurse.password).unwrap();
    let call_next = || match client
        .call(
            &me.token,
            Operation::CallNext {
                unit_code: "general".into(),
            },
        )
        .unwrap()
    {
        Answer::VisitOpened(opened) => opened,
        other => panic!("nobody was waiting at the general poli: {other:?}"),
    };
    let opened = call_next();
    let ticket = opened.visit.ticket.clone();
    until(&mut screen, "the call on screen", &|s| {
        s.state()
            .calls()
            .first()
            .is_some_and(|c| c.ticket == ticket)
    });
    assert!(screen.query_by_label_contains(&ticket).is_some());
    assert!(screen.query_by_label_contains("Poli Umum").is_some());
    assert!(
        screen
            .query_by_label_contains(&opened.history.patient.name)
            .is_none(),
        "never a name on the waiting room's screen"
    );
    let first = announced
        .recv_timeout(Duration::from_secs(5))
        .expect("the call is announced");
    assert_eq!(first.ticket, ticket);

    // The nurse calls the next one: it is announced, the first is not announced again.
    let second = call_next();
    let second_ticket = second.visit.ticket.clone();
    until(&mut screen, "the second call on screen", &|s| {
        s.state()
            .calls()
            .first()
            .is_some_and(|c| c.ticket == second_ticket)
    });
    assert!(
        screen.state().calls().iter().any(|c| c.ticket == ticket),
        "the first call is listed below it"
    );
    let next = announced
        .recv_timeout(Duration::from_secs(5))
        .expect("the second call is announced");
    assert_eq!(next.ticket, second_ticket);
    assert!(announced.try_recv().is_err(), "each call is announced once");
    assert!(screen.state().calls().len() > calls_before);
}

#[test]
fn desks_keep_registering_with_their_own_emergency_series_while_the_server_is_off() {
    let mut server_pc = ServerPc::with_authority();
    let mut first = App::joined_workstation(&server_pc, "Loket 1");
    let mut second = App::joined_workstation(&server_pc, "Loket 2");
    first.at_the_desk();
    second.at_the_desk();
    let visits_before = server_pc.visits();
    server_pc.server.stop();
    first.until_text("Server Puskesmas");

    // The genuine card is still checked on this PC; the visit gets this desk's own number.
    first.registers_budi();
    assert!(first.shows("U-A01"), "the first desk's emergency series");
    assert!(
        first.harness.state().state().server_away.is_some(),
        "the banner stays while the desk works on its own"
    );
    // The banner first: it moves the screen down, and a tap is a click on the tray.
    second.until_text("Server Puskesmas");
    second.tap("Siti Rahayu — asli");
    second.until_text("Kartu asli");
    second.click("Daftarkan");
    second.until_text("Nomor antrian");
    assert!(
        second.shows("U-B01"),
        "the second desk's, never the first's"
    );
    assert_eq!(
        server_pc.visits(),
        visits_before,
        "nothing reached the server yet"
    );

    // The server is back: each desk sends what it kept, once.
    server_pc.restart();
    first.until("the first desk's records sent", |h| {
        h.state().state().server_away.is_none()
    });
    let sent = |server_pc: &ServerPc| {
        rusqlite::Connection::open(server_pc.dir.path().join("clinic.sqlite"))
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM visit WHERE queue_number IN (-1001, -2001)",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .expect("the server's store")
    };
    first.until("both emergency visits on the server", |_| {
        sent(&server_pc) == 2
    });
    second.until("the second desk's banner gone", |h| {
        h.state().state().server_away.is_none()
    });
    assert_eq!(server_pc.visits(), visits_before + 2, "each visit once");
}

#[test]
fn the_polis_records_made_while_the_server_is_off_reach_it_once_when_it_is_back() {
    let mut server_pc = ServerPc::with_authority();
    let mut poli = App::joined_workstation(&server_pc, "Poli Umum");
    poli.log_in(Role::Nurse);
    poli.until_text("Antrian poli hari ini");
    poli.until("someone waiting", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.status == VisitStatus::Waiting)
    });
    poli.harness.key_press(eframe::egui::Key::F2);
    poli.until("the called visit", |h| {
        h.state().state().poli.open.is_some()
    });
    let visit_id = poli
        .harness
        .state()
        .state()
        .poli
        .open
        .as_ref()
        .map(|o| o.visit.visit_id.clone())
        .expect("open");
    server_pc.server.stop();
    poli.until_text("Server Puskesmas");

    poli.type_into("Cari diagnosa (kode atau kata), Enter menambahkan", "J06.9");
    poli.harness.key_press(eframe::egui::Key::Enter);
    poli.until_text("catatan disimpan di komputer ini");
    let diagnoses = |server_pc: &ServerPc| -> i64 {
        rusqlite::Connection::open(server_pc.dir.path().join("clinic.sqlite"))
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM diagnosis d JOIN visit v ON v.id = d.visit_id
                     WHERE v.uuid = ?1 AND d.code = 'J06.9'",
                    [uuid::Uuid::parse_str(&visit_id).expect("uuid")],
                    |r| r.get(0),
                )
            })
            .expect("the server's store")
    };
    assert_eq!(diagnoses(&server_pc), 0);

    server_pc.restart();
    poli.until("the kept diagnosis on the server", |_| {
        diagnoses(&server_pc) == 1
    });
    poli.until("the banner gone", |h| {
        h.state().state().server_away.is_none()
    });
    assert_eq!(diagnoses(&server_pc), 1, "sent once");
}

#[test]
fn an_admin_approves_a_pc_asking_to_join_from_the_admin_room() {
    let server_pc = ServerPc::with_authority();
    let mut admin = App::joined_workstation(&server_pc, "Ruang admin");
    admin.log_in(Role::Admin);
    admin.until_text("Tempelkan kartu");
    admin.click("Ruang admin");
    admin.until_text("Tempelkan kartu pasien atau kartu kosong");

    // A new PC at the desk asks to join.
    let voucher_ca = server_pc
        .authority
        .as_ref()
        .expect("authority")
        .voucher()
        .ca_pem
        .clone();
    let (_key, public_key) = kartika_lan::authority::new_workstation_key().unwrap();
    let newcomer = Client::puskesmas(&kartika_lan::PuskesmasLink {
        address: server_pc.server.addr.to_string(),
        ca_pem: voucher_ca.into_bytes(),
        identity: None,
        generation_file: None,
        emergency_series: None,
    })
    .unwrap();
    let asked = newcomer.ask_to_join("Loket 9", &public_key).unwrap();

    admin.click("Komputer");
    admin.until("the request listed", |h| {
        let admin = &h.state().state().admin;
        assert_eq!(admin.problem, None);
        admin.workstations.iter().any(|w| w.name == "Loket 9")
    });
    assert!(admin.shows("menunggu persetujuan"));
    admin.click("Setujui Loket 9");
    admin.until("Loket 9 approved on screen", |h| {
        h.state()
            .state()
            .admin
            .workstations
            .iter()
            .any(|w| w.name == "Loket 9" && w.approved_by.is_some())
    });
    let answer = newcomer.join_request(&asked.id).unwrap();
    assert!(
        answer.certificate.is_some(),
        "the CA issued its certificate"
    );
    assert_eq!(
        answer.emergency_series,
        Some(2),
        "the admin room's PC has series A"
    );
}
