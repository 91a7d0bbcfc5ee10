//! Workstations whose store is on the Puskesmas's server PC: the same screens, the same
//! answers, and each screen following what the others do.

use kartika_store::{Role, VisitStatus};

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
    desk.tap("Budi Santoso — asli");
    desk.until_text("Kartu asli");
    desk.click("Daftarkan");
    desk.until_text("Nomor antrian");
    // No click at the poli: the server's news brings Budi into its queue.
    poli.until("Budi in the poli's queue", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.name == "Budi Santoso" && q.status == VisitStatus::Waiting)
    });
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
    desk.tap("Budi Santoso — asli");
    desk.until_text("Kartu asli");
    desk.click("Daftarkan");
    desk.until_text("Nomor antrian");
}
