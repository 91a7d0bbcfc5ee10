//! TLS without a public CA: the Puskesmas's CA, vouched for by its node key; workstations
//! that join and are approved by an admin; strangers refused.

use kartika_lan::authority::{new_workstation_key, verify_voucher, Voucher};
use kartika_lan::{Client, LanError, PuskesmasLink};
use kartika_testkit::fixtures::Pki;

use crate::support::{Running, PASSWORD};

/// A PC set up against `server`: the voucher checked under `pki`'s root, the CA pinned,
/// a key made and the request to join sent. Returns the link (no certificate yet) and the
/// request's id.
fn join(server: &Running, pki: &Pki, name: &str) -> (PuskesmasLink, String, String) {
    let address = server.addr.to_string();
    let voucher = Client::voucher_at(&address).expect("the voucher");
    let ca_pem = verify_voucher(&voucher, "P3674060", &pki.trust()).expect("vouched for");
    let (key_pem, public_key) = new_workstation_key().expect("key");
    let link = PuskesmasLink {
        address,
        ca_pem: ca_pem.into_bytes(),
        identity: None,
        generation_file: None,
        emergency_series: None,
    };
    let asked = Client::puskesmas(&link)
        .unwrap()
        .ask_to_join(name, &public_key)
        .expect("asked to join");
    assert_eq!(asked.certificate, None, "nothing before an admin approves");
    (link, asked.id, key_pem)
}

fn approve(server: &Running, authority: &kartika_lan::authority::Authority, id: &str) {
    let mut store = server.store();
    let admin = store.login("admin", PASSWORD).unwrap();
    store
        .approve_workstation(&admin, id, |name, public_key| {
            authority
                .workstation_certificate(name, public_key)
                .map_err(|e| e.to_string())
        })
        .expect("approved");
}

#[test]
fn a_workstation_is_served_once_an_admin_approves_it_and_no_longer_once_revoked() {
    let pki = Pki::new();
    let (server, authority) = Running::with_authority(&pki);
    let (mut link, id, key_pem) = join(&server, &pki, "Loket 1");
    let unapproved = Client::puskesmas(&link).unwrap();
    let err = unapproved.login("desk1", PASSWORD).unwrap_err();
    assert!(matches!(err, LanError::NotApproved(_)), "{err:?}");

    approve(&server, &authority, &id);
    let answer = Client::puskesmas(&link).unwrap().join_request(&id).unwrap();
    let certificate = hex::decode(answer.certificate.expect("issued")).unwrap();
    link.identity = Some((key_pem, certificate));
    let approved = Client::puskesmas(&link).unwrap();
    let me = approved
        .login("desk1", PASSWORD)
        .expect("an approved workstation logs in");
    approved
        .call(&me.token, kartika_lan::Operation::QueueCounts)
        .expect("and works");

    let mut store = server.store();
    let admin = store.login("admin", PASSWORD).unwrap();
    store.revoke_workstation(&admin, &id).unwrap();
    let err = approved
        .call(&me.token, kartika_lan::Operation::QueueCounts)
        .unwrap_err();
    assert!(matches!(err, LanError::NotApproved(_)), "{err:?}");
}

#[test]
fn a_voucher_not_of_this_puskesmas_or_not_under_the_root_is_refused() {
    let pki = Pki::new();
    let (server, _authority) = Running::with_authority(&pki);
    let voucher = Client::voucher_at(&server.addr.to_string()).unwrap();
    assert!(verify_voucher(&voucher, "P3674060", &pki.trust()).is_ok());
    let other_puskesmas = verify_voucher(&voucher, "P3674010", &pki.trust()).unwrap_err();
    assert!(
        other_puskesmas.to_string().contains("not by P3674010"),
        "{other_puskesmas}"
    );
    let stranger_root = Pki::new();
    assert!(verify_voucher(&voucher, "P3674060", &stranger_root.trust()).is_err());
    // Another CA slipped under the same node's word.
    let (other, _) = Running::with_authority(&pki);
    let foreign_ca = Client::voucher_at(&other.addr.to_string()).unwrap().ca_pem;
    let swapped = Voucher {
        ca_pem: foreign_ca,
        ..voucher
    };
    let err = verify_voucher(&swapped, "P3674060", &pki.trust()).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn a_ca_appended_to_a_genuine_voucher_is_refused_and_never_pinned() {
    let pki = Pki::new();
    let (server, _authority) = Running::with_authority(&pki);
    let voucher = Client::voucher_at(&server.addr.to_string()).unwrap();
    // A server in the middle keeps the node's signature and adds a CA of its own.
    let (other, _) = Running::with_authority(&pki);
    let attackers_ca = Client::voucher_at(&other.addr.to_string()).unwrap().ca_pem;
    for tampered in [
        format!("{}{attackers_ca}", voucher.ca_pem),
        format!("{attackers_ca}{}", voucher.ca_pem),
    ] {
        let appended = Voucher {
            ca_pem: tampered,
            ..voucher.clone()
        };
        let err = verify_voucher(&appended, "P3674060", &pki.trust()).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
    }
    // What is pinned is the one certificate the node signed, written anew.
    let pinned = verify_voucher(&voucher, "P3674060", &pki.trust()).unwrap();
    assert_eq!(pinned.matches("-----BEGIN CERTIFICATE-----").count(), 1);
    // A pinned file holding two certificates (not written by a join) is not believed.
    let (mut link, _, _) = join(&server, &pki, "Loket 1");
    link.ca_pem = format!("{pinned}{attackers_ca}").into_bytes();
    let err = Client::puskesmas(&link).err().expect("refused");
    assert!(err.to_string().contains("not one certificate"), "{err}");
}

#[test]
fn a_server_whose_certificate_is_not_of_the_pinned_authority_is_refused() {
    let pki = Pki::new();
    let (server, authority) = Running::with_authority(&pki);
    let (mut link, id, key_pem) = join(&server, &pki, "Poli Umum");
    approve(&server, &authority, &id);
    let certificate = Client::puskesmas(&link).unwrap().join_request(&id).unwrap();
    link.identity = Some((
        key_pem,
        hex::decode(certificate.certificate.unwrap()).unwrap(),
    ));
    // Another server on the LAN (its own CA) where the workstation expects its own.
    let (impostor, _) = Running::with_authority(&pki);
    let misled = PuskesmasLink {
        address: impostor.addr.to_string(),
        ..link.clone()
    };
    let err = Client::puskesmas(&misled)
        .unwrap()
        .login("desk1", PASSWORD)
        .unwrap_err();
    assert!(matches!(err, LanError::Unreachable { .. }), "{err:?}");
    Client::puskesmas(&link)
        .unwrap()
        .login("desk1", PASSWORD)
        .expect("its own server");
}

/// An approved workstation named `name`, its client and its emergency series.
fn approved_desk(
    server: &Running,
    authority: &kartika_lan::authority::Authority,
    pki: &Pki,
    name: &str,
) -> (Client, u8) {
    let (mut link, id, key_pem) = join(server, pki, name);
    approve(server, authority, &id);
    let answer = Client::puskesmas(&link).unwrap().join_request(&id).unwrap();
    let certificate = hex::decode(answer.certificate.expect("issued")).unwrap();
    link.identity = Some((key_pem, certificate));
    (
        Client::puskesmas(&link).unwrap(),
        answer.emergency_series.expect("a series"),
    )
}

#[test]
fn a_desk_sends_emergency_visits_only_of_its_own_series() {
    use kartika_lan::{Answer, Operation, Refusal};
    let pki = Pki::new();
    let (server, authority) = Running::with_authority(&pki);
    let (desk_a, series_a) = approved_desk(&server, &authority, &pki, "Loket 1");
    let (_desk_b, series_b) = approved_desk(&server, &authority, &pki, "Loket 2");
    assert_ne!(series_a, series_b);
    let me = desk_a.login("desk1", PASSWORD).unwrap();
    let Answer::Created { created, .. } = desk_a
        .call(
            &me.token,
            Operation::CreatePatient {
                patient: Box::new(crate::support::patient(1)),
            },
        )
        .unwrap()
    else {
        panic!("no patient");
    };
    let number = created.patient.patient_number;
    let arrived = kartika_store::Clock::now(&server.clock) - time::Duration::minutes(10);
    let emergency = |n: i64| Operation::RegisterEmergency {
        visit: crate::support::visit(&number, "general"),
        number: n,
        arrived_at: arrived,
    };
    // Desk B's first number, and numbers of no series, sent from desk A: refused.
    for (n, what) in [
        (
            kartika_store::emergency_number(series_b, 1).unwrap(),
            "desk B's",
        ),
        (-1, "U-A01 of no series"),
        (-9_223_372_036_854_775_807, "the queue's very front"),
    ] {
        let err = desk_a.call(&me.token, emergency(n)).unwrap_err();
        assert!(
            matches!(err, LanError::Refused(Refusal::Invalid { .. })),
            "{what}: {err:?}"
        );
    }
    // Its own first number: accepted.
    let own = kartika_store::emergency_number(series_a, 1).unwrap();
    let Answer::Registered(ticket) = desk_a.call(&me.token, emergency(own)).unwrap() else {
        panic!("not registered");
    };
    assert!(ticket.ticket.starts_with("U-"), "{ticket:?}");
}

#[test]
fn the_server_speaks_tls_1_3_only() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName};
    let pki = Pki::new();
    let (server, _authority) = Running::with_authority(&pki);
    let voucher = Client::voucher_at(&server.addr.to_string()).unwrap();
    let ca_pem = verify_voucher(&voucher, "P3674060", &pki.trust()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let attempt = |versions: &[&'static rustls::SupportedProtocolVersion]| {
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let name = ServerName::try_from(kartika_lan::authority::SERVER_NAME).unwrap();
        let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut done = Ok(());
        while connection.is_handshaking() {
            if let Err(e) = connection.complete_io(&mut tcp) {
                done = Err(e);
                break;
            }
        }
        done
    };
    assert!(attempt(&[&rustls::version::TLS13]).is_ok(), "1.3 is spoken");
    assert!(
        attempt(&[&rustls::version::TLS12]).is_err(),
        "1.2 is refused"
    );
}

#[test]
fn a_hostile_workstation_locks_out_only_itself() {
    use kartika_lan::Refusal;
    let pki = Pki::new();
    let (server, authority) = Running::with_authority(&pki);
    let (hostile, _) = approved_desk(&server, &authority, &pki, "Loket 1");
    let (other, _) = approved_desk(&server, &authority, &pki, "Poli Umum");
    for _ in 0..12 {
        let _ = hostile.login("admin", "tebakan");
    }
    let err = hostile.login("admin", PASSWORD).unwrap_err();
    assert!(
        matches!(err, LanError::Refused(Refusal::LoginLocked { .. })),
        "{err:?}"
    );
    other
        .login("admin", PASSWORD)
        .expect("the admin at another workstation");
    server
        .store()
        .login("admin", PASSWORD)
        .expect("the admin at the server's console");
}

#[test]
fn a_session_works_only_from_its_own_workstation_and_ends_when_it_is_revoked() {
    use kartika_lan::Operation;
    let pki = Pki::new();
    let (server, authority) = Running::with_authority(&pki);
    let (loket, _) = approved_desk(&server, &authority, &pki, "Loket 1");
    let (poli, _) = approved_desk(&server, &authority, &pki, "Poli Gigi");
    let me = loket.login("desk1", PASSWORD).unwrap();
    loket
        .call(&me.token, Operation::QueueCounts)
        .expect("at its own desk");
    // The same token from another workstation: no session there.
    let err = poli.call(&me.token, Operation::QueueCounts).unwrap_err();
    assert!(matches!(err, LanError::SessionEnded), "{err:?}");
    // Revoking the desk's PC ends the sessions opened on it.
    let sessions = || -> i64 {
        server
            .sql()
            .query_row("SELECT COUNT(*) FROM staff_session", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(sessions(), 1);
    let mut store = server.store();
    let admin = store.login("admin", PASSWORD).unwrap();
    let id = store
        .list_workstations(&admin)
        .unwrap()
        .into_iter()
        .find(|w| w.name == "Loket 1")
        .unwrap()
        .id;
    store.revoke_workstation(&admin, &id).unwrap();
    assert_eq!(sessions(), 0, "the desk's session ended with its PC");
}

#[cfg(unix)]
#[test]
fn the_authoritys_folder_is_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("lan");
    let node = pki.node(
        "P3674060",
        kartika_card::crypto::Roles::TERMINAL,
        time::macros::date!(2030 - 12 - 31),
    );
    kartika_lan::authority::Authority::open_or_create(&folder, &node).unwrap();
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
}

#[test]
fn a_flood_of_join_requests_from_one_pc_is_refused_and_writes_nothing() {
    let pki = Pki::new();
    let (server, _authority) = Running::with_authority(&pki);
    let voucher = Client::voucher_at(&server.addr.to_string()).unwrap();
    let ca_pem = verify_voucher(&voucher, "P3674060", &pki.trust()).unwrap();
    let link = PuskesmasLink {
        address: server.addr.to_string(),
        ca_pem: ca_pem.into_bytes(),
        identity: None,
        generation_file: None,
        emergency_series: None,
    };
    let client = Client::puskesmas(&link).unwrap();
    let mut refused = 0;
    for n in 0..20 {
        let (_, key) = new_workstation_key().unwrap();
        if client.ask_to_join(&format!("Umpan {n}"), &key).is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 15, "five a minute from one PC");
    let mut store = server.store();
    let admin = store.login("admin", PASSWORD).unwrap();
    let listed = store.list_workstations(&admin).unwrap();
    assert_eq!(listed.len(), 5);
    assert!(
        listed
            .iter()
            .all(|w| w.requested_from.as_deref() == Some("127.0.0.1")),
        "the admin sees where each asked from: {listed:?}"
    );
}
