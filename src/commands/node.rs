//! `kartika root …` and `kartika node …`: the keys and certificates of the trust chain.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use kartika_card::crypto::{NodeCertificate, PublicKey, Roles};
use kartika_card::model::parse_iso_date;
use p256::ecdsa::SigningKey;
use rand_core::OsRng;

use crate::keys;

pub fn root_init(out: &Path) -> Result<ExitCode> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = SigningKey::random(&mut OsRng);
    keys::write_private_key(&out.join("root.key"), &key)?;
    keys::write_public_key(&out.join("root.pub"), &PublicKey::of(&key))?;
    println!(
        "root key written to {} (keep root.key secret)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn node_init(id: &str, out: &Path) -> Result<ExitCode> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = SigningKey::random(&mut OsRng);
    // Check the id now, not at certification time.
    NodeCertificate::issue(
        &key,
        id,
        PublicKey::of(&key),
        time::Date::MIN,
        Roles(Roles::TERMINAL),
    )?;
    keys::write_private_key(&out.join("node.key"), &key)?;
    keys::write_public_key(&out.join("node.pub"), &PublicKey::of(&key))?;
    fs::write(out.join("node.id"), id)
        .with_context(|| format!("cannot write {}/node.id", out.display()))?;
    println!("node {id} key written to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn root_certify(root: &Path, node: &Path, roles: &str, valid_until: &str) -> Result<ExitCode> {
    let root_key = keys::read_private_key(&root.join("root.key"))?;
    let node_pub = keys::read_public_key(&node.join("node.pub"))?;
    let id_path = node.join("node.id");
    let id = fs::read_to_string(&id_path)
        .with_context(|| format!("cannot read {}", id_path.display()))?;
    let certificate = NodeCertificate::issue(
        &root_key,
        id.trim(),
        node_pub,
        parse_iso_date(valid_until, "valid-until date")?,
        Roles::parse_list(roles)?,
    )?;
    keys::write_certificate(&node.join("node.cert"), &certificate)?;
    println!(
        "node {} certified as {roles} until {valid_until}",
        id.trim()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum RootCommand {
    /// Create a root key pair: DIR/root.key (mode 0600) and DIR/root.pub.
    Init {
        #[arg(long)]
        out: PathBuf,
    },
    /// Certify a node: writes DIR/node.cert into the node's folder.
    Certify {
        /// The folder holding root.key.
        #[arg(long)]
        root: PathBuf,
        /// The node's folder (node.id, node.pub).
        #[arg(long)]
        node: PathBuf,
        /// Comma-separated: terminal, issuer.
        #[arg(long)]
        roles: String,
        /// Last day the certificate is valid, YYYY-MM-DD.
        #[arg(long)]
        valid_until: String,
    },
}

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Create a node key pair: DIR/node.key (mode 0600), DIR/node.pub and DIR/node.id.
    Init {
        /// The node's id, usually the facility code.
        #[arg(long)]
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run_root(command: RootCommand) -> Result<ExitCode> {
    match command {
        RootCommand::Init { out } => root_init(&out),
        RootCommand::Certify {
            root,
            node,
            roles,
            valid_until,
        } => root_certify(&root, &node, &roles, &valid_until),
    }
}

pub fn run_node(command: NodeCommand) -> Result<ExitCode> {
    match command {
        NodeCommand::Init { id, out } => node_init(&id, &out),
    }
}
