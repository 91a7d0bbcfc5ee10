//! Issue with `kartika card issue`, read with `kartika card read`, while `kartika vcard
//! attach` holds the card in virtual reader slot 0.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use kartika_reader::ReaderContext;
use kartika_testkit::pcsc::{exclusive, reader_name, STARTUP_LIMIT};

use crate::support::{kartika, ok, path};

/// A registry root, a certified node and a blank card, made with the command line.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let setup = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        ok(&["root", "init", "--out", path(&setup.file("root"))]);
        ok(&[
            "node",
            "init",
            "--id",
            "P3674010",
            "--out",
            path(&setup.file("node")),
        ]);
        ok(&[
            "root",
            "certify",
            "--root",
            path(&setup.file("root")),
            "--node",
            path(&setup.file("node")),
            "--roles",
            "terminal,issuer",
            "--valid-until",
            "2031-12-31",
        ]);
        ok(&["vcard", "create", "--out", path(&setup.file("card.json"))]);
        setup
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `kartika vcard attach` in the background: the card stays in the reader until dropped.
struct Attached(Child);

impl Attached {
    fn new(card: &Path) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_kartika"))
            .args(["vcard", "attach", "--card", path(card), "--slot", "0"])
            .stderr(Stdio::null())
            .spawn()
            .expect("start kartika vcard attach");
        let attached = Self(child);
        ReaderContext::establish()
            .and_then(|ctx| ctx.wait_for_card(&reader_name(0), Some(STARTUP_LIMIT)))
            .expect("the attached card appears in the reader");
        attached
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = ReaderContext::establish()
            .and_then(|ctx| ctx.wait_for_removal(&reader_name(0), Some(STARTUP_LIMIT)));
    }
}

fn demo_identity() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo/identity.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn issue(setup: &Setup) {
    ok(&[
        "card",
        "issue",
        "--reader",
        &reader_name(0),
        "--identity",
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/identity.json"),
        "--pin",
        "123456",
        "--node",
        path(&setup.file("node")),
        "--root-pub",
        path(&setup.file("root/root.pub")),
    ]);
}

#[test]
fn a_card_issued_and_read_through_pcscd_is_genuine() {
    let _pcsc = exclusive();
    let setup = Setup::new();
    let _attached = Attached::new(&setup.file("card.json"));
    issue(&setup);

    let readers: serde_json::Value = serde_json::from_str(&ok(&["readers", "--json"])).unwrap();
    let slot0 = readers
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == reader_name(0))
        .unwrap();
    assert_eq!(slot0["card_present"], true);

    let read = ok(&[
        "card",
        "read",
        "--reader",
        &reader_name(0),
        "--trust",
        path(&setup.file("root/root.pub")),
        "--json",
    ]);
    let reading: serde_json::Value = serde_json::from_str(&read).unwrap();
    assert_eq!(reading["genuine"], true);
    assert_eq!(reading["reason"], serde_json::Value::Null);
    for (field, value) in demo_identity().as_object().unwrap() {
        assert_eq!(&reading[field], value, "{field}");
    }
    assert!(!read.contains("BEGIN"), "no key is ever printed");
}

#[test]
fn a_card_from_another_registry_is_not_genuine_and_read_exits_non_zero() {
    let _pcsc = exclusive();
    let setup = Setup::new();
    ok(&["root", "init", "--out", path(&setup.file("other-root"))]);
    let _attached = Attached::new(&setup.file("card.json"));
    issue(&setup);
    let output = kartika(&[
        "card",
        "read",
        "--reader",
        &reader_name(0),
        "--trust",
        path(&setup.file("other-root/root.pub")),
        "--json",
    ]);
    assert!(!output.status.success());
    let reading: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reading["genuine"], false);
    assert!(
        reading["reason"]
            .as_str()
            .unwrap()
            .contains("does not know"),
        "{reading}"
    );
}

#[test]
fn card_wait_reads_each_card_that_arrives() {
    let _pcsc = exclusive();
    let setup = Setup::new();
    {
        let _attached = Attached::new(&setup.file("card.json"));
        issue(&setup);
    }
    let mut waiter = Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args([
            "card",
            "wait",
            "--reader",
            &reader_name(0),
            "--trust",
            path(&setup.file("root/root.pub")),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read on a thread, so a `card wait` that never answers fails the test in 30 s.
    let stdout = waiter.stdout.take().unwrap();
    let (said, first_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = said.send(BufReader::new(stdout).lines().next());
    });
    let _attached = Attached::new(&setup.file("card.json"));
    let line = first_line
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("card wait prints a line within 30 s of the card")
        .expect("a line per card")
        .unwrap();
    let reading: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reading["genuine"], true);
    assert_eq!(reading["name"], "Siti Rahayu");
    let _ = waiter.kill();
    let _ = waiter.wait();
}

#[test]
fn key_files_are_private_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("root");
    ok(&["root", "init", "--out", path(&out)]);
    let mode = std::fs::metadata(out.join("root.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = kartika(&["root", "init", "--out", path(&out)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
}

#[test]
fn a_bad_identity_file_is_refused_with_the_reason() {
    let setup = Setup::new();
    let mut identity = demo_identity();
    identity["sex"] = "male".into();
    let file = setup.file("bad.json");
    std::fs::write(&file, identity.to_string()).unwrap();
    let output = kartika(&[
        "card",
        "issue",
        "--reader",
        &reader_name(0),
        "--identity",
        path(&file),
        "--pin",
        "123456",
        "--node",
        path(&setup.file("node")),
        "--root-pub",
        path(&setup.file("root/root.pub")),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("woman's NIK"));
}
