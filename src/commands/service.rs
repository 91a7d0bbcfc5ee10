//! `kartika service`: the clinic server as a native Windows service. The service manager
//! starts `kartika.exe service run …` at boot, restarts it two seconds after a failure,
//! and stops it through the control handler, which ends `serve-clinic` as Ctrl-C would
//! (the requests in flight finish). No wrapper program is needed. On Linux the same is a
//! systemd unit (contrib/kartika-clinic.service).

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::commands::lan::ServeClinicArgs;

/// The service's name, as `sc query` and the Services console show it.
pub const SERVICE_NAME: &str = "kartika-clinic";

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Registers the clinic server as a Windows service that starts with the PC (run as an
    /// administrator); it takes serve-clinic's flags, kept for every start.
    Install(ServeClinicArgs),
    /// Starts the service and waits until it is running.
    Start,
    /// Stops the service (requests in flight finish) and waits until it has stopped.
    Stop,
    /// Stops and removes the service; the data folder is left as it is.
    Uninstall,
    /// What the service manager runs; not for a person.
    #[command(hide = true)]
    Run(ServeClinicArgs),
}

/// The arguments the service manager gives `kartika.exe` at each start: `service run`
/// and serve-clinic's flags, with paths made absolute (a service starts in System32).
pub fn launch_arguments(args: &ServeClinicArgs) -> Result<Vec<OsString>> {
    let absolute = |path: &std::path::Path| -> Result<OsString> {
        Ok(std::path::absolute(path)?.into_os_string())
    };
    let mut launch: Vec<OsString> = vec!["service".into(), "run".into()];
    launch.extend(["--db".into(), absolute(&args.db)?]);
    launch.extend(["--listen".into(), args.listen.to_string().into()]);
    let paths = [
        ("--node", &args.node),
        ("--trust", &args.trust),
        ("--tls-cert", &args.tls_cert),
        ("--tls-key", &args.tls_key),
    ];
    for (flag, path) in paths {
        if let Some(path) = path {
            launch.extend([flag.into(), absolute(path)?]);
        }
    }
    Ok(launch)
}

pub fn run(command: ServiceCommand) -> Result<ExitCode> {
    platform::run(command)
}

#[cfg(not(windows))]
mod platform {
    use super::*;

    pub fn run(command: ServiceCommand) -> Result<ExitCode> {
        if let ServiceCommand::Install(args) = &command {
            // Said so the flags can be checked here too.
            let launch = launch_arguments(args)?;
            eprintln!("a Windows service would run: kartika {}", shown(&launch));
        }
        anyhow::bail!(
            "the Windows service {SERVICE_NAME} exists on Windows only; on Linux run the clinic server under systemd (contrib/kartika-clinic.service)"
        )
    }

    fn shown(arguments: &[OsString]) -> String {
        arguments
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(windows)]
mod platform {
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use anyhow::{bail, Context};
    use windows_service::service::{
        ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
        ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
        ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
    };
    use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
    use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
    use windows_service::{define_windows_service, service_dispatcher};

    use super::*;

    /// How long `start` and `stop` wait for the service to get there.
    const PATIENCE: Duration = Duration::from_secs(60);

    pub fn run(command: ServiceCommand) -> Result<ExitCode> {
        match command {
            ServiceCommand::Install(args) => install(&args),
            ServiceCommand::Start => start(),
            ServiceCommand::Stop => stop(),
            ServiceCommand::Uninstall => uninstall(),
            ServiceCommand::Run(args) => run_under_service_manager(args),
        }
    }

    fn manager(access: ServiceManagerAccess) -> Result<ServiceManager> {
        ServiceManager::local_computer(None::<&str>, access)
            .context("cannot reach the Windows service manager; run this as an administrator")
    }

    fn install(args: &ServeClinicArgs) -> Result<ExitCode> {
        let manager =
            manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
        let info = ServiceInfo {
            name: SERVICE_NAME.into(),
            display_name: "Kartika clinic server".into(),
            service_type: ServiceType::OWN_PROCESS,
            start_type: ServiceStartType::AutoStart,
            error_control: ServiceErrorControl::Normal,
            executable_path: std::env::current_exe().context("cannot tell where kartika.exe is")?,
            launch_arguments: launch_arguments(args)?,
            dependencies: vec![],
            account_name: None, // LocalSystem: the store lives in %PROGRAMDATA%
            account_password: None,
        };
        let service = manager
            .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::START)
            .with_context(|| format!("cannot register the service {SERVICE_NAME} (is it there already? `kartika service uninstall` first)"))?;
        let _ = service.set_description(
            "The Puskesmas's store on the LAN: the workstations register, examine and report through it.",
        );
        // Back two seconds after a crash: the workstations resend what they were waiting
        // for with the same request ids, and their sessions are kept in the store.
        let restart = ServiceAction {
            action_type: ServiceActionType::Restart,
            delay: Duration::from_secs(2),
        };
        let failure = ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart.clone(), restart.clone(), restart]),
        };
        let restarts = service
            .update_failure_actions(failure)
            .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
        if let Err(e) = restarts {
            eprintln!("the service will not be restarted after a failure by itself: {e}");
        }
        println!(
            "installed the service {SERVICE_NAME}: it starts with the PC; start it now with `kartika service start`"
        );
        Ok(ExitCode::SUCCESS)
    }

    fn wait_for(service: &windows_service::service::Service, state: ServiceState) -> Result<()> {
        let started = Instant::now();
        loop {
            let now = service
                .query_status()
                .context("cannot ask the service how it is")?;
            if now.current_state == state {
                return Ok(());
            }
            if now.current_state == ServiceState::Stopped && state == ServiceState::Running {
                bail!(
                    "the service {SERVICE_NAME} stopped as it started; its log is in the logs folder beside the store"
                );
            }
            if started.elapsed() > PATIENCE {
                bail!(
                    "the service {SERVICE_NAME} is still {:?} after a minute",
                    now.current_state
                );
            }
            // The service manager sends no event a program outside it can wait on.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn open(access: ServiceAccess) -> Result<windows_service::service::Service> {
        manager(ServiceManagerAccess::CONNECT)?
            .open_service(SERVICE_NAME, access)
            .with_context(|| {
                format!(
                    "there is no service {SERVICE_NAME}; install it with `kartika service install`"
                )
            })
    }

    fn start() -> Result<ExitCode> {
        let service = open(ServiceAccess::START | ServiceAccess::QUERY_STATUS)?;
        service
            .start::<&str>(&[])
            .with_context(|| format!("cannot start the service {SERVICE_NAME}"))?;
        wait_for(&service, ServiceState::Running)?;
        println!("the service {SERVICE_NAME} is running");
        Ok(ExitCode::SUCCESS)
    }

    fn stop_and_wait(service: &windows_service::service::Service) -> Result<()> {
        if service.query_status()?.current_state == ServiceState::Stopped {
            return Ok(());
        }
        service
            .stop()
            .with_context(|| format!("cannot stop the service {SERVICE_NAME}"))?;
        wait_for(service, ServiceState::Stopped)
    }

    fn stop() -> Result<ExitCode> {
        let service = open(ServiceAccess::STOP | ServiceAccess::QUERY_STATUS)?;
        stop_and_wait(&service)?;
        println!("the service {SERVICE_NAME} has stopped");
        Ok(ExitCode::SUCCESS)
    }

    fn uninstall() -> Result<ExitCode> {
        let service =
            open(ServiceAccess::STOP | ServiceAccess::QUERY_STATUS | ServiceAccess::DELETE)?;
        stop_and_wait(&service)?;
        service
            .delete()
            .with_context(|| format!("cannot remove the service {SERVICE_NAME}"))?;
        println!("removed the service {SERVICE_NAME}; the data folder is left as it was");
        Ok(ExitCode::SUCCESS)
    }

    /// The flags the service was started with, for the service's main function, which
    /// the service manager calls on a thread of its own.
    static ARGS: OnceLock<ServeClinicArgs> = OnceLock::new();

    fn run_under_service_manager(args: ServeClinicArgs) -> Result<ExitCode> {
        let _ = ARGS.set(args);
        service_dispatcher::start(SERVICE_NAME, ffi_service_main).context(
            "`kartika service run` is for the Windows service manager; run `kartika serve-clinic` from a console",
        )?;
        Ok(ExitCode::SUCCESS)
    }

    define_windows_service!(ffi_service_main, service_main);

    fn service_main(_arguments: Vec<OsString>) {
        if let Err(e) = serve_as_service() {
            tracing::error!("the clinic service failed: {e:#}");
        }
    }

    fn status(state: ServiceState, exit: u32) -> ServiceStatus {
        ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: if state == ServiceState::Running {
                ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
            } else {
                ServiceControlAccept::empty()
            },
            exit_code: ServiceExitCode::Win32(exit),
            checkpoint: 0,
            wait_hint: Duration::from_secs(20),
            process_id: None,
        }
    }

    fn serve_as_service() -> Result<()> {
        let args = ARGS
            .get()
            .context("the service started without its flags")?;
        let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel::<()>();
        let stop_sender = Mutex::new(Some(stop_sender));
        let handler = move |control| match control {
            ServiceControl::Stop | ServiceControl::Shutdown => {
                if let Some(sender) = stop_sender.lock().ok().and_then(|mut s| s.take()) {
                    let _ = sender.send(());
                }
                ServiceControlHandlerResult::NoError
            }
            ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
            _ => ServiceControlHandlerResult::NotImplemented,
        };
        let handle = service_control_handler::register(SERVICE_NAME, handler)?;
        // Starting until it listens: `kartika service start` returns when it serves.
        handle.set_service_status(status(ServiceState::StartPending, 0))?;
        let lifecycle = crate::serving::Lifecycle {
            stop: Box::pin(async move {
                let _ = stop_receiver.await;
            }),
            ready: Some(Box::new(move || {
                if let Err(e) = handle.set_service_status(status(ServiceState::Running, 0)) {
                    tracing::error!("cannot tell the service manager the service runs: {e}");
                }
                tracing::info!("the clinic service started");
            })),
        };
        let served = crate::commands::lan::serve_clinic_until(args, lifecycle);
        // A failure ends the service with an error, so the manager restarts it.
        let exit = match &served {
            Ok(_) => 0,
            Err(e) => {
                tracing::error!("the clinic server stopped: {e:#}");
                1
            }
        };
        tracing::info!("the clinic service stopped");
        handle.set_service_status(status(ServiceState::Stopped, exit))?;
        Ok(())
    }
}
