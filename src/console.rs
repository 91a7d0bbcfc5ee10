//! On Windows a console program started from the Start menu or Explorer gets a console
//! window of its own. The desktop app has no use for it, so `kartika app` and `kartika
//! demo` let it go when it is theirs alone (never a console they were typed into), and
//! an error before the app's window opens is then shown in a message box instead.

/// Lets go of the console when this process is its only user; says whether it did.
pub fn leave_own_console() -> bool {
    platform::leave_own_console()
}

/// Shows `text` where the person who started the program will see it.
pub fn show_error(text: &str) {
    platform::show_error(text);
}

#[cfg(windows)]
mod platform {
    use std::os::windows::ffi::OsStrExt;

    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    use windows_sys::Win32::UI::WindowsAndMessaging::{MessageBoxW, MB_ICONERROR, MB_OK};

    pub fn leave_own_console() -> bool {
        let mut processes = [0u32; 2];
        // SAFETY: the buffer holds the two ids the call is told it may write.
        let sharing = unsafe { GetConsoleProcessList(processes.as_mut_ptr(), 2) };
        // SAFETY: no arguments; detaches this process from its console.
        sharing == 1 && unsafe { FreeConsole() } != 0
    }

    pub fn show_error(text: &str) {
        let wide = |s: &str| -> Vec<u16> {
            std::ffi::OsStr::new(s)
                .encode_wide()
                .chain(Some(0))
                .collect()
        };
        let (text, caption) = (wide(text), wide("Kartika"));
        // SAFETY: both strings are NUL-terminated and live across the call.
        unsafe {
            MessageBoxW(
                std::ptr::null_mut(),
                text.as_ptr(),
                caption.as_ptr(),
                MB_OK | MB_ICONERROR,
            )
        };
    }
}

#[cfg(not(windows))]
mod platform {
    pub fn leave_own_console() -> bool {
        false
    }

    pub fn show_error(text: &str) {
        eprintln!("{text}");
    }
}
