//! A demo world in a temporary folder and the app running over it in a test harness, with
//! a helper that waits for the app's workers by their wake-ups, never by sleeping.

use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use kartika_app::workers::remote::ServerLink;
use kartika_app::{AppConfig, DemoConfig, KartikaApp};
use kartika_card::crypto::TrustAnchors;
use kartika_demo::{DemoWorld, SeedSize};
use kartika_lan::authority::Authority;
use kartika_lan::PuskesmasLink;
use kartika_store::{ManualClock, Role};
use kartika_testkit::lan::RunningServer;

/// How long a worker may take to answer before the test fails.
const WORKER_LIMIT: Duration = Duration::from_secs(30);

pub struct App {
    pub harness: Harness<'static, KartikaApp>,
    pub world: DemoWorld,
    woken: Receiver<()>,
    /// The app's and the demo's clock: ten in the morning, WIB, of the day the test began,
    /// so no run crosses local midnight.
    pub clock: ManualClock,
    /// The demo's registry, when the app syncs with one.
    pub registry: Option<kartika_demo::InProcessRegistry>,
    dir: tempfile::TempDir,
}

impl App {
    /// The file of the demo tray's first card of `kind`.
    pub fn tray_card(&self, kind: kartika_demo::TrayCardKind) -> std::path::PathBuf {
        self.world
            .tray
            .iter()
            .find(|c| c.kind == kind)
            .expect("the demo tray holds a card of each kind")
            .path
            .clone()
    }

    /// The demo app with its in-process reader (no pcscd), standalone.
    pub fn demo() -> Self {
        Self::demo_with(false)
    }

    pub fn demo_with(pcsc: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let clock = morning();
        let world = demo_world(&dir.path().join("demo"), &clock);
        Self::demo_with_config(world, dir, pcsc, None, clock)
    }

    /// A second window on the same demo store, as another workstation's (its own output
    /// folder, no card reader).
    pub fn another_window(&self) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let world = demo_world(&self.world.dir, &self.clock);
        Self::demo_with_config(world, dir, false, None, self.clock.clone())
    }

    /// The demo app syncing with the demo's registry, served on loopback from this process.
    pub fn demo_synced() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let clock = morning();
        let world = demo_world(&dir.path().join("demo"), &clock);
        let registry = kartika_demo::InProcessRegistry::start(
            &world.registry_path,
            Some(world.receipts.clone()),
        )
        .expect("registry");
        let sync = kartika_sync::SyncConfig::new(&registry.url(), &world.token);
        let mut app = Self::demo_with_config(world, dir, false, Some(sync), clock);
        app.registry = Some(registry);
        app
    }

    fn demo_with_config(
        world: DemoWorld,
        dir: tempfile::TempDir,
        pcsc: bool,
        sync: Option<kartika_sync::SyncConfig>,
        clock: ManualClock,
    ) -> Self {
        let config = AppConfig {
            store_path: world.store_path.clone(),
            output_dir: dir.path().to_owned(),
            trust: TrustAnchors::new(vec![world.root.clone()]),
            pcsc,
            sync,
            server: None,
            demo: Some(DemoConfig {
                accounts: world.accounts.clone(),
                tray: world.tray.clone(),
            }),
            terminal: Some(world.node.clone()),
            clock: Arc::new(clock.clone()),
            wake_hook: None,
            report_timings: None,
        };
        let mut app = Self::start(config, world, dir, clock);
        app.until("the login screen", |h| {
            h.query_by_label("Nama pengguna").is_some()
        });
        app
    }

    /// The app on a data folder with no store yet: the first-run set-up.
    pub fn first_run() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        // A world only for its trust anchor; the app's own store does not exist yet.
        let clock = morning();
        let world = demo_world(&dir.path().join("demo"), &clock);
        let data = dir.path().join("puskesmas");
        std::fs::create_dir_all(&data).expect("data folder");
        let config = AppConfig {
            store_path: data.join("clinic.sqlite"),
            output_dir: data.clone(),
            trust: TrustAnchors::new(vec![world.root.clone()]),
            pcsc: false,
            sync: None,
            server: None,
            demo: None,
            terminal: None,
            clock: Arc::new(clock.clone()),
            wake_hook: None,
            report_timings: None,
        };
        let mut app = Self::start(config, world, dir, clock);
        app.until_text("Pengaturan awal Puskesmas");
        app
    }

    fn start(
        mut config: AppConfig,
        world: DemoWorld,
        dir: tempfile::TempDir,
        clock: ManualClock,
    ) -> Self {
        let (hook, woken) = mpsc::channel();
        config.wake_hook = Some(hook);
        let harness = Harness::builder()
            .with_size([1280.0, 900.0])
            .build_eframe(move |cc| KartikaApp::new(cc, config));
        Self {
            harness,
            world,
            woken,
            clock,
            registry: None,
            dir,
        }
    }

    /// A workstation of `server_pc`: its store is the server's, its reader the demo tray.
    pub fn workstation(server_pc: &ServerPc) -> Self {
        let folder = tempfile::tempdir().expect("temporary folder");
        let link = ServerLink::Url {
            url: server_pc.url.clone(),
            ca_pem: None,
        };
        Self::on_server(server_pc, link, folder)
    }

    /// A workstation of `server_pc` set up as `kartika workstation join` does.
    pub fn joined_workstation(server_pc: &ServerPc, name: &str) -> Self {
        let (link, folder) = server_pc.joined(name);
        let link = ServerLink::Puskesmas {
            link,
            folder: folder.path().to_owned(),
        };
        Self::on_server(server_pc, link, folder)
    }

    fn on_server(server_pc: &ServerPc, link: ServerLink, folder: tempfile::TempDir) -> Self {
        let world = demo_world(server_pc.dir.path(), &server_pc.clock);
        let config = AppConfig {
            store_path: folder.path().join("unused.sqlite"),
            output_dir: folder.path().to_owned(),
            trust: TrustAnchors::new(vec![world.root.clone()]),
            pcsc: false,
            sync: None,
            server: Some(link),
            demo: Some(DemoConfig {
                accounts: world.accounts.clone(),
                tray: world.tray.clone(),
            }),
            terminal: Some(world.node.clone()),
            clock: Arc::new(server_pc.clock.clone()),
            wake_hook: None,
            report_timings: None,
        };
        let mut app = Self::start(config, world, folder, server_pc.clock.clone());
        app.until("the login screen", |h| {
            h.query_by_label("Nama pengguna").is_some()
        });
        app
    }

    /// The temporary folder everything lives in.
    pub fn folder(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Runs frames until `done` holds, waiting for the workers' wake-ups in between.
    pub fn until(&mut self, what: &str, done: impl Fn(&Harness<'static, KartikaApp>) -> bool) {
        let deadline = Instant::now() + WORKER_LIMIT;
        loop {
            self.harness.run_ok();
            if done(&self.harness) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "gave up waiting for {what}");
            // Either a worker wakes the UI, or the frame itself has more to do.
            let _ = self
                .woken
                .recv_timeout(left.min(Duration::from_millis(200)));
        }
    }

    /// Waits until some text containing `text` is on screen.
    pub fn until_text(&mut self, text: &str) {
        let text = text.to_owned();
        self.until(&format!("\"{text}\" on screen"), move |h| {
            h.query_all_by_label_contains(&text).next().is_some()
        });
    }

    pub fn type_into(&mut self, label: &str, text: &str) {
        let field = self.harness.get_by_label(label);
        field.focus();
        field.type_text(text);
        self.harness.run_ok();
    }

    /// Selects what a field holds and types `text` over it.
    pub fn replace_text(&mut self, label: &str, text: &str) {
        self.harness.get_by_label(label).scroll_to_me();
        self.harness.run_ok();
        let field = self.harness.get_by_label(label);
        field.focus();
        self.harness.run_ok();
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.run_ok();
        self.harness.get_by_label(label).type_text(text);
        self.harness.run_ok();
    }

    pub fn click(&mut self, label: &str) {
        // A click lands where the button was last drawn: a worker's news since (BPJS's
        // answer, a count) is drawn first, so the click finds the button where it is.
        self.harness.run_ok();
        // As a user scrolls to a button below the fold first.
        self.harness.get_by_label(label).scroll_to_me();
        self.harness.run_ok();
        self.harness.get_by_label(label).click();
        self.harness.run_ok();
    }

    pub fn log_in(&mut self, role: Role) {
        let account = self.world.account(role).expect("demo account").clone();
        self.type_into("Nama pengguna", &account.username);
        self.type_into("Kata sandi", &account.password);
        self.click("Masuk");
    }

    /// Logs in at the desk and waits for it.
    pub fn at_the_desk(&mut self) {
        self.log_in(Role::Registration);
        self.until_text("Tempelkan kartu");
    }

    /// Taps Budi's genuine card at the desk and registers him at the default unit; waits
    /// for his ticket.
    pub fn registers_budi(&mut self) {
        self.tap("Budi Santoso — asli");
        self.until_text("Kartu asli");
        self.click("Daftarkan");
        self.until_text("Nomor antrian");
    }

    /// Waits until Budi stands waiting in this poli's queue.
    pub fn until_budi_waits_in_the_queue(&mut self) {
        self.until("Budi in the poli's queue", |h| {
            h.state().state().poli.queue.iter().any(|q| {
                q.name == "Budi Santoso" && q.status == kartika_store::VisitStatus::Waiting
            })
        });
    }

    /// Taps the tray card whose button contains `label`.
    pub fn tap(&mut self, label: &str) {
        self.harness.get_by_label_contains(label).click();
        self.harness.run_ok();
    }

    /// Pulls the demo card and waits until PC/SC sees vpcd's first slot empty: the next
    /// test's card must find it so.
    pub fn leave_the_reader_empty(&mut self) {
        if self.harness.query_by_label("Cabut kartu").is_some() {
            self.click("Cabut kartu");
        }
        let empty = format!("{}: menunggu kartu", kartika_testkit::pcsc::reader_name(0));
        self.until_text(&empty);
    }

    pub fn shows(&self, text: &str) -> bool {
        self.harness
            .query_all_by_label_contains(text)
            .next()
            .is_some()
    }
}

/// The Puskesmas's server PC: the demo world's store served on a loopback port.
pub struct ServerPc {
    pub server: RunningServer,
    pub url: String,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    /// The Puskesmas's authority, when only approved workstations are served.
    pub authority: Option<Arc<Authority>>,
    /// The registry's root keys the server judges cards under.
    trust: Arc<TrustAnchors>,
    /// The demo world the server's store is.
    pub world: DemoWorld,
}

impl ServerPc {
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// The server with the Puskesmas's own authority (the demo node vouching for it):
    /// workstations join and are approved.
    pub fn with_authority() -> Self {
        Self::start_with(true)
    }

    fn start_with(authority: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let clock = morning();
        let world = demo_world(dir.path(), &clock);
        let authority = authority.then(|| {
            Arc::new(
                Authority::open_or_create(&dir.path().join("lan"), &world.node)
                    .expect("the Puskesmas's authority"),
            )
        });
        let trust = Arc::new(TrustAnchors::new(vec![world.root.clone()]));
        let server = serve(
            &world.store_path,
            &clock,
            (authority.as_ref(), &trust),
            "127.0.0.1:0",
        );
        Self {
            url: server.url.clone(),
            server,
            clock,
            dir,
            authority,
            trust,
            world,
        }
    }

    /// A PC joined to this server and approved by its admin: its link and its folder.
    pub fn joined(&self, name: &str) -> (PuskesmasLink, tempfile::TempDir) {
        let authority = self.authority.as_ref().expect("a server with an authority");
        let folder = tempfile::tempdir().expect("temporary folder");
        let (key_pem, public_key) = kartika_lan::authority::new_workstation_key().expect("key");
        let mut link = PuskesmasLink {
            address: self.server.addr.to_string(),
            ca_pem: authority.voucher().ca_pem.clone().into_bytes(),
            identity: None,
            generation_file: Some(folder.path().join("server-generation")),
            emergency_series: None,
        };
        let asked = kartika_lan::Client::puskesmas(&link)
            .expect("client")
            .ask_to_join(name, &public_key)
            .expect("asked");
        let mut store = kartika_store::Store::open_with_clock(
            &self.dir.path().join("clinic.sqlite"),
            Arc::new(self.clock.clone()),
        )
        .expect("the server's store");
        let admin = self.account(Role::Admin);
        let session = store
            .login(&admin.username, &admin.password)
            .expect("admin");
        let approved = store
            .approve_workstation(&session, &asked.id, |name, key| {
                authority
                    .workstation_certificate(name, key)
                    .map_err(|e| e.to_string())
            })
            .expect("approved");
        link.identity = Some((key_pem, approved.certificate.expect("certificate")));
        link.emergency_series = approved.emergency_series;
        (link, folder)
    }

    /// The demo's account of `role`.
    pub fn account(&self, role: Role) -> kartika_demo::DemoAccount {
        demo_world(self.dir.path(), &self.clock)
            .account(role)
            .expect("demo account")
            .clone()
    }

    /// How many visits the server's store holds.
    pub fn visits(&self) -> i64 {
        rusqlite::Connection::open(self.dir.path().join("clinic.sqlite"))
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM visit", [], |r| r.get(0)))
            .expect("the server's store")
    }

    /// The server PC is switched on again, at the same address.
    pub fn restart(&mut self) {
        let store = self.dir.path().join("clinic.sqlite");
        let addr = self.server.addr.to_string();
        self.server = serve(
            &store,
            &self.clock,
            (self.authority.as_ref(), &self.trust),
            &addr,
        );
    }
}

/// Serves `store` with the Puskesmas's authority (if any) and the registry's root keys
/// (the demo's), under which the server judges each tapped card.
fn serve(
    store: &std::path::Path,
    clock: &ManualClock,
    (authority, trust): (Option<&Arc<Authority>>, &Arc<TrustAnchors>),
    addr: &str,
) -> RunningServer {
    let tls = authority.map(|a| a.server_tls().expect("the server's TLS"));
    let authority = authority.cloned();
    let trust = Arc::clone(trust);
    RunningServer::start_with(
        store,
        Arc::new(clock.clone()),
        addr.parse().expect("address"),
        tls,
        move |config| {
            config.authority = authority;
            config.card_trust = Some(trust);
        },
    )
}

/// Ten in the morning, WIB, of today: the desk is open and midnight is far.
fn morning() -> ManualClock {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("WIB");
    let today = time::OffsetDateTime::now_utc().to_offset(wib).date();
    ManualClock::new(
        time::PrimitiveDateTime::new(today, time::Time::from_hms(10, 0, 0).expect("10:00"))
            .assume_offset(wib),
    )
}

/// The demo world at `dir` on `clock`.
fn demo_world(dir: &std::path::Path, clock: &ManualClock) -> DemoWorld {
    DemoWorld::open_or_create_with_clock(dir, false, SeedSize::SMALL, Arc::new(clock.clone()))
        .expect("demo world")
}
