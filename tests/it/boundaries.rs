//! The crate boundaries ARCHITECTURE.md promises, read from the manifests through
//! `cargo metadata`: what each crate links when it ships (dev-dependencies aside: a test may
//! use a real clinic store to make what a clinic sends).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each workspace crate's normal dependencies on other workspace crates, and on the
/// outside crates named in `watched`.
fn normal_dependencies(watched: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|d| members.contains(*d) || watched.contains(d))
                .map(str::to_owned)
                .collect();
            (name, deps)
        })
        .collect()
}

/// Everything `krate` links, following the workspace's normal dependencies.
fn links(graph: &BTreeMap<String, BTreeSet<String>>, krate: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec![krate.to_owned()];
    while let Some(name) = next.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                next.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn each_crate_links_only_what_its_concern_needs() {
    let graph = normal_dependencies(&["eframe", "egui", "pcsc", "axum"]);
    let never = [
        (
            "kartika-registry",
            "kartika-store",
            "the registry knows no clinic store",
        ),
        (
            "kartika-fhir",
            "kartika-store",
            "the FHIR mapping reads its own records",
        ),
        (
            "kartika-lan",
            "kartika-registry",
            "the clinic server shares the listener, not the registry",
        ),
        ("kartika-card", "pcsc", "the card crate does no I/O"),
        ("kartika-store", "axum", "the store knows no HTTP"),
    ];
    for (krate, forbidden, rule) in never {
        assert!(
            !links(&graph, krate).contains(forbidden),
            "{krate} links {forbidden}, but {rule} (ARCHITECTURE.md)"
        );
    }
    let egui_users: Vec<&String> = graph
        .keys()
        .filter(|k| graph[*k].contains("eframe") || graph[*k].contains("egui"))
        .collect();
    assert_eq!(egui_users, ["kartika-app"], "only the app crate knows egui");
    for server in ["kartika-registry", "kartika-lan"] {
        assert!(
            graph[server].contains("kartika-listener"),
            "{server} serves through the shared listener"
        );
    }
}
