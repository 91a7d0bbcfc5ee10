//! This workstation's own files beside the clinic store: the node key made at the first
//! run (`node.key`, PKCS#8 PEM, readable by its owner only, and `node.pub` to give the
//! registry's operator for enrolment) and the registry link (`registry.json`: its address
//! and the node's token), absent when the Puskesmas runs standalone.

use std::path::{Path, PathBuf};

use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::OsRng;

pub use kartika_lan::RegistryLink;

const NODE_KEY: &str = "node.key";
const NODE_PUB: &str = "node.pub";
const REGISTRY: &str = "registry.json";

/// Makes the node key in `folder` unless there is one, and returns the public key's file.
pub fn ensure_node_key(folder: &Path) -> std::io::Result<PathBuf> {
    let public = folder.join(NODE_PUB);
    if folder.join(NODE_KEY).exists() {
        return Ok(public);
    }
    let key = SigningKey::random(&mut OsRng);
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_new(&folder.join(NODE_KEY), private_pem.as_bytes(), true)?;
    write_new(&public, public_pem.as_bytes(), false)?;
    Ok(public)
}

/// Remembers the registry link.
pub fn save_registry(folder: &Path, link: &RegistryLink) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(link).map_err(std::io::Error::other)?;
    let path = folder.join(REGISTRY);
    let _ = std::fs::remove_file(&path);
    write_new(&path, &text, true)
}

/// The registry link, if this Puskesmas has one.
pub fn read_registry(folder: &Path) -> std::io::Result<Option<RegistryLink>> {
    match std::fs::read(folder.join(REGISTRY)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes a file that must not exist yet, durably; secrets are for the owner only.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    let readers = if secret {
        kartika_durable::Readers::Owner
    } else {
        kartika_durable::Readers::Anyone
    };
    kartika_durable::create_new(path, bytes, readers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let public = ensure_node_key(dir.path()).unwrap();
        let first = std::fs::read(dir.path().join(NODE_KEY)).unwrap();
        assert!(std::fs::read_to_string(&public)
            .unwrap()
            .contains("PUBLIC KEY"));
        ensure_node_key(dir.path()).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join(NODE_KEY)).unwrap(),
            first,
            "kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(NODE_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only its owner reads the key");
        }
    }

    #[test]
    fn the_registry_link_round_trips_and_is_absent_when_standalone() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_registry(dir.path()).unwrap(), None);
        let link = RegistryLink {
            url: "http://127.0.0.1:8700".into(),
            token: "kt_secret".into(),
        };
        save_registry(dir.path(), &link).unwrap();
        save_registry(dir.path(), &link).unwrap();
        assert_eq!(read_registry(dir.path()).unwrap(), Some(link));
    }
}
