//! Durable writes as their callers rely on them.

use kartika_durable::{create_new, publish, replace, Readers};

#[test]
fn a_replaced_file_holds_the_new_bytes_and_nothing_is_left_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    replace(&path, b"first", Readers::Anyone).unwrap();
    replace(&path, b"second, longer", Readers::Anyone).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["card.json"], "no staging file left");
}

#[test]
fn a_new_file_is_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.key");
    create_new(&path, b"key", Readers::Owner).unwrap();
    let again = create_new(&path, b"another key", Readers::Owner).unwrap_err();
    assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), b"key");
}

#[test]
fn a_staged_file_is_published_in_place_of_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let (staging, path) = (
        dir.path().join("copy.partial"),
        dir.path().join("copy.sqlite"),
    );
    std::fs::write(&path, b"old").unwrap();
    std::fs::write(&staging, b"new copy").unwrap();
    publish(&staging, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new copy");
    assert!(!staging.exists());
}

#[cfg(unix)]
#[test]
fn an_owners_file_is_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    replace(&path, b"s", Readers::Owner).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0);
}
