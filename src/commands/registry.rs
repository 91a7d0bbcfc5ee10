//! `kartika registry …` and `kartika sync`: the central registry and the clinic's side of
//! sync.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use kartika_card::crypto::{NodeCertificate, NodeCredentials, Roles};
use kartika_card::model::parse_iso_date;
use kartika_registry::sqlite::SqliteBackend;
use kartika_registry::Backend;
use kartika_store::Store;
use kartika_sync::{SyncConfig, Syncer};

use crate::keys;

/// Connections a registry on PostgreSQL opens.
const POSTGRES_CONNECTIONS: usize = 4;

/// Where the registry keeps its data.
pub enum Storage {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Storage {
    pub fn from_args(db: Option<PathBuf>, postgres: Option<String>) -> Result<Self> {
        match (db, postgres) {
            (Some(path), None) => Ok(Self::Sqlite(path)),
            (None, Some(url)) => Ok(Self::Postgres(url)),
            _ => bail!("give the registry's storage: --db FILE or --postgres URL"),
        }
    }

    /// Storage connections for the server: PostgreSQL serves clinics side by side, SQLite's
    /// writers take turns anyway.
    fn open_pool(&self) -> Result<kartika_registry::api::Pool> {
        let more = match self {
            Self::Sqlite(_) => 0,
            Self::Postgres(_) => POSTGRES_CONNECTIONS - 1,
        };
        let first = self.open()?;
        let rest = (0..more).map(|_| self.open()).collect::<Result<Vec<_>>>()?;
        Ok(kartika_registry::api::Pool::new(first, rest))
    }

    fn open(&self) -> Result<Box<dyn Backend>> {
        Ok(match self {
            Self::Sqlite(path) => Box::new(SqliteBackend::open(path).with_context(|| {
                format!("cannot open the registry database {}", path.display())
            })?),
            Self::Postgres(url) => Box::new(
                kartika_registry::postgres_backend::PostgresBackend::connect(url)
                    .context("cannot open the registry's PostgreSQL database")?,
            ),
        })
    }
}

pub fn init(dir: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    keys::write_private_key(&dir.join("root.key"), &key)?;
    keys::write_public_key(
        &dir.join("root.pub"),
        &kartika_card::crypto::PublicKey::of(&key),
    )?;
    // The key that signs audit receipts while the registry serves: the root key stays
    // offline, its certificate says the receipts are the registry's.
    let receipt_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let receipt_certificate = NodeCertificate::issue(
        &key,
        kartika_store::RECEIPT_SIGNER,
        kartika_card::crypto::PublicKey::of(&receipt_key),
        parse_iso_date("2036-12-31", "receipt certificate date")?,
        Roles(0),
    )?;
    keys::write_private_key(&dir.join("receipt.key"), &receipt_key)?;
    keys::write_certificate(&dir.join("receipt.cert"), &receipt_certificate)?;
    println!(
        "registry root key written to {} (root.key, mode 0600: keep it secret; root.pub goes on every card); receipt.key and receipt.cert sign audit receipts (registry serve --receipts)",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub struct Enrolment<'a> {
    pub dir: &'a Path,
    pub storage: Storage,
    pub node_id: &'a str,
    pub node_pub: &'a Path,
    pub roles: &'a str,
    pub valid_until: &'a str,
    pub cert_out: &'a Path,
    pub json: bool,
}

pub fn enroll(e: &Enrolment<'_>) -> Result<ExitCode> {
    let node = kartika_registry::node(e.node_id, e.roles)?;
    let root_key = keys::read_private_key(&e.dir.join("root.key"))?;
    let certificate = NodeCertificate::issue(
        &root_key,
        &node.id,
        keys::read_public_key(e.node_pub)?,
        parse_iso_date(e.valid_until, "valid-until date")?,
        Roles::parse_list(&node.roles)?,
    )?;
    let (token, hash) = kartika_registry::new_token();
    e.storage
        .open()?
        .enroll(&node, &hash, &certificate.to_tlv())?;
    keys::write_certificate(e.cert_out, &certificate)?;
    if e.json {
        println!(
            "{}",
            serde_json::json!({ "node_id": node.id, "roles": node.roles, "certificate": e.cert_out, "token": token })
        );
    } else {
        println!(
            "node {} enrolled as {}; certificate written to {}",
            node.id,
            node.roles,
            e.cert_out.display()
        );
        println!("access token (shown once; give it to the node as its token file):\n{token}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn revoke_card(storage: &Storage, card: &str, reason: &str, lift: bool) -> Result<ExitCode> {
    storage
        .open()?
        .operator_revocation(card.trim(), reason.trim(), lift)?;
    let what = if lift { "lifted" } else { "revoked" };
    println!(
        "card {} {what}; every clinic applies it at its next sync",
        card.trim()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn revoke_node(storage: &Storage, node_id: &str, reason: &str) -> Result<ExitCode> {
    storage.open()?.revoke_node(node_id.trim(), reason.trim())?;
    println!(
        "node {} revoked: its token no longer works, and cards it signs from today are refused at every desk",
        node_id.trim()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn rotate_token(storage: &Storage, node_id: &str) -> Result<ExitCode> {
    let (token, hash) = kartika_registry::new_token();
    storage.open()?.rotate_token(node_id.trim(), &hash)?;
    println!(
        "new access token for {} (shown once; the old one no longer works):\n{token}",
        node_id.trim()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn forget_audit_heads(storage: &Storage, node_id: &str) -> Result<ExitCode> {
    let forgotten = storage.open()?.forget_audit_heads(node_id.trim())?;
    println!(
        "{forgotten} audit heads of {} forgotten; its next sync starts a new history of receipts",
        node_id.trim()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn access_log(storage: &Storage, patient: &str, json: bool) -> Result<ExitCode> {
    let entries = storage.open()?.access_log(patient.trim())?;
    if json {
        println!("{}", serde_json::to_string(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("no node has been answered about patient {}", patient.trim());
    }
    for entry in entries {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.at) * 1_000_000)
            .map_or_else(|_| entry.at.to_string(), |t| t.to_string());
        println!(
            "{at}  {}  {}  {}",
            entry.node, entry.endpoint, entry.outcome
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn serve(
    listen: SocketAddr,
    storage: &Storage,
    tls: Option<(&Path, &Path)>,
    receipts: Option<&Path>,
) -> Result<ExitCode> {
    let acceptor = tls
        .map(|(cert, key)| kartika_listener::acceptor(cert, key))
        .transpose()?;
    if acceptor.is_none() && !listen.ip().is_loopback() {
        bail!(
            "{listen} is not a loopback address: plain HTTP is allowed only on loopback; give --tls-cert and --tls-key to serve beyond this machine"
        );
    }
    let mut pool = storage.open_pool()?;
    if let Some(dir) = receipts {
        let key = keys::read_private_key(&dir.join("receipt.key"))?;
        let certificate = keys::read_certificate(&dir.join("receipt.cert"))?;
        pool = pool.with_receipts(
            NodeCredentials::new(key, certificate)
                .with_context(|| format!("the receipt key in {}", dir.display()))?,
        );
    }
    let tls = acceptor.is_some();
    crate::serving::until_stopped(
        "registry",
        listen,
        tls,
        crate::serving::Lifecycle::console(),
        |listener, stop| async move {
            match acceptor {
                Some(acceptor) => kartika_registry::serve_tls(listener, acceptor, pool, stop).await,
                None => kartika_registry::serve(listener, pool, stop).await,
            }
            .context("the registry server failed")
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn sync(db: &Path, link: &RegistryLink, watch: bool) -> Result<ExitCode> {
    let registry = &link.registry;
    let syncer = link.syncer()?;
    let mut store = Store::open(db)?;
    if watch {
        // Runs until the process is stopped; the sender stays alive so it never says stop.
        let (_keep, stop) = std::sync::mpsc::channel();
        println!(
            "syncing {} with {registry} every minute; stop with Ctrl+C",
            db.display()
        );
        syncer.run(&mut store, std::time::Duration::from_secs(60), &stop);
        return Ok(ExitCode::SUCCESS);
    }
    let report = syncer.round(&mut store)?;
    let health = store.sync_health()?;
    println!(
        "sent {}, set aside {}, applied {} pulled changes; {} waiting, {} set aside in all",
        report.sent, report.set_aside, report.applied, health.pending, health.set_aside
    );
    for (seq, reason) in &report.skipped {
        println!("pulled change {seq} could not be read and was skipped: {reason}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Create the registry's root key: DIR/root.key (mode 0600) and DIR/root.pub.
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Enroll a node: certify its key and give it an access token (shown once).
    Enroll {
        /// The registry folder holding root.key.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        /// The facility code.
        #[arg(long)]
        node_id: String,
        /// The node's public key (node.pub).
        #[arg(long)]
        node_pub: PathBuf,
        /// Comma-separated: terminal, issuer.
        #[arg(long)]
        roles: String,
        /// Last day the certificate is valid, YYYY-MM-DD.
        #[arg(long, default_value = "2031-12-31")]
        valid_until: String,
        /// Where to write the node certificate.
        #[arg(long)]
        cert_out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Serve the registry's HTTP API.
    Serve {
        /// For example 127.0.0.1:8700 (plain HTTP only on loopback).
        #[arg(long)]
        listen: std::net::SocketAddr,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        /// PEM certificate chain: serve HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of the certificate.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The registry folder holding receipt.key and receipt.cert (made by `registry
        /// init`): sign the clinics' audit heads.
        #[arg(long)]
        receipts: Option<PathBuf>,
    },
    /// Revoke a card as the registry's operator (or, with --lift, lift a revocation): every
    /// clinic applies it at its next sync.
    RevokeCard {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        lift: bool,
    },
    /// Take a node off the network: its token stops working, and the cards it signs from
    /// today are refused at every desk.
    RevokeNode {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a node a new access token (shown once); the old one stops working at once.
    RotateToken {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
    },
    /// After checking that a clinic's store was restored from a backup (not rewritten):
    /// forget the audit heads it handed over, so its syncs start a new history of receipts.
    ForgetAuditHeads {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
    },
    /// Who has seen a patient: every answer of the registry that named them.
    AccessLog {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        patient: String,
        #[arg(long)]
        json: bool,
    },
}

/// How this Puskesmas reaches the registry.
#[derive(Args)]
pub struct RegistryLink {
    /// For example http://127.0.0.1:8700.
    #[arg(long)]
    pub registry: String,
    /// A file holding the node's access token.
    #[arg(long)]
    pub token_file: PathBuf,
    /// PEM certificates to trust for an https registry (default: the public roots).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

impl RegistryLink {
    /// A client for the registry, its token and CA read from their files.
    pub fn syncer(&self) -> Result<Syncer> {
        let token = std::fs::read_to_string(&self.token_file)
            .with_context(|| format!("cannot read the token file {}", self.token_file.display()))?;
        let mut config = SyncConfig::new(&self.registry, &token);
        if let Some(ca) = &self.ca_file {
            config.ca_pem = Some(
                std::fs::read(ca)
                    .with_context(|| format!("cannot read the CA file {}", ca.display()))?,
            );
        }
        Ok(Syncer::new(config)?)
    }
}

#[derive(Args)]
pub struct SyncArgs {
    #[arg(long)]
    pub db: PathBuf,
    #[command(flatten)]
    pub link: RegistryLink,
    /// One round, then exit (non-zero if it failed).
    #[arg(long, conflicts_with = "watch", required_unless_present = "watch")]
    pub once: bool,
    /// Keep syncing, retrying with backoff when the link is down.
    #[arg(long)]
    pub watch: bool,
}

pub fn run(command: RegistryCommand) -> Result<ExitCode> {
    match command {
        RegistryCommand::Init { dir } => init(&dir),
        RegistryCommand::Enroll {
            dir,
            db,
            postgres,
            node_id,
            node_pub,
            roles,
            valid_until,
            cert_out,
            json,
        } => enroll(&Enrolment {
            dir: &dir,
            storage: Storage::from_args(db, postgres)?,
            node_id: &node_id,
            node_pub: &node_pub,
            roles: &roles,
            valid_until: &valid_until,
            cert_out: &cert_out,
            json,
        }),
        RegistryCommand::Serve {
            listen,
            db,
            postgres,
            tls_cert,
            tls_key,
            receipts,
        } => serve(
            listen,
            &Storage::from_args(db, postgres)?,
            tls_cert.as_deref().zip(tls_key.as_deref()),
            receipts.as_deref(),
        ),
        RegistryCommand::RevokeCard {
            db,
            postgres,
            card,
            reason,
            lift,
        } => revoke_card(&Storage::from_args(db, postgres)?, &card, &reason, lift),
        RegistryCommand::RevokeNode {
            db,
            postgres,
            node_id,
            reason,
        } => revoke_node(&Storage::from_args(db, postgres)?, &node_id, &reason),
        RegistryCommand::RotateToken {
            db,
            postgres,
            node_id,
        } => rotate_token(&Storage::from_args(db, postgres)?, &node_id),
        RegistryCommand::ForgetAuditHeads {
            db,
            postgres,
            node_id,
        } => forget_audit_heads(&Storage::from_args(db, postgres)?, &node_id),
        RegistryCommand::AccessLog {
            db,
            postgres,
            patient,
            json,
        } => access_log(&Storage::from_args(db, postgres)?, &patient, json),
    }
}

pub fn run_sync(args: SyncArgs) -> Result<ExitCode> {
    sync(&args.db, &args.link, args.watch)
}
