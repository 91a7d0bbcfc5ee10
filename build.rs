//! On Windows, kartika.exe carries its icon and version information
//! (packaging/windows/kartika.rc, compiled with MinGW-w64's windres). Nothing elsewhere.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=packaging/windows/kartika.rc");
    println!("cargo:rerun-if-changed=packaging/icons/kartika.ico");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0".into());
    let commas = format!("{},0", version.replace('.', ","));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let resource = out.join("kartika-resource.o");
    let windres = std::env::var("WINDRES").unwrap_or_else(|_| "x86_64-w64-mingw32-windres".into());
    let status = Command::new(&windres)
        .arg(format!("-DKARTIKA_VERSION=\\\"{version}\\\""))
        .arg(format!("-DKARTIKA_VERSION_COMMAS={commas}"))
        .args(["-O", "coff", "-i", "packaging/windows/kartika.rc", "-o"])
        .arg(&resource)
        .status();
    match status {
        Ok(status) if status.success() => {
            println!("cargo:rustc-link-arg-bins={}", resource.display());
        }
        // Without windres the program is whole, only without its icon in Explorer.
        other => println!(
            "cargo:warning=kartika.exe is built without its icon: {windres} failed ({other:?}); install gcc-mingw-w64-x86-64"
        ),
    }
}
