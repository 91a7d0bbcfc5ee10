//! Files and folders only their owner reads: a key, a secret, the Puskesmas's certificate
//! authority, a data folder.
//!
//! On Unix that is mode 0600 (0700 for a folder). On Windows it is an access list of its
//! own, not inherited from the folder above (`%PROGRAMDATA%` lets every user read): full
//! control for the user this process runs as, and for SYSTEM and the local Administrators,
//! who can take any file on Windows anyway, so listing them hides nothing from anyone who
//! could not already reach it and lets an administrator back the data up. A folder passes
//! its list on to what is made in it later (SQLite's `-wal` and `-shm` files among them).

use std::io;
use std::path::Path;

/// Closes `path` (a file or a folder) to everyone but its owner.
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    let folder = std::fs::metadata(path)?.is_dir();
    platform::restrict(path, folder)
}

/// Whether `path` is closed to everyone but its owner, as [`restrict_to_owner`] leaves it.
pub fn is_owner_only(path: &Path) -> io::Result<bool> {
    platform::is_owner_only(path)
}

#[cfg(unix)]
mod platform {
    use std::io;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    pub fn restrict(path: &Path, folder: bool) -> io::Result<()> {
        let mode = if folder { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }

    pub fn is_owner_only(path: &Path) -> io::Result<bool> {
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 == 0)
    }
}

#[cfg(windows)]
mod platform {
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr::{null, null_mut};

    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::{
        GetNamedSecurityInfoW, SetNamedSecurityInfoW, SE_FILE_OBJECT,
    };
    use windows_sys::Win32::Security::{
        AddAccessAllowedAceEx, CreateWellKnownSid, EqualSid, GetAce, GetLengthSid,
        GetTokenInformation, InitializeAcl, TokenUser, WinBuiltinAdministratorsSid,
        WinLocalSystemSid, ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_REVISION,
        CONTAINER_INHERIT_ACE, DACL_SECURITY_INFORMATION, OBJECT_INHERIT_ACE,
        PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID, SECURITY_MAX_SID_SIZE,
        TOKEN_QUERY, TOKEN_USER, WELL_KNOWN_SID_TYPE,
    };
    use windows_sys::Win32::Storage::FileSystem::FILE_ALL_ACCESS;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;

    /// A security identifier in a buffer of its own (u64s keep it aligned).
    struct Sid(Vec<u64>);

    impl Sid {
        fn as_psid(&self) -> PSID {
            self.0.as_ptr() as PSID
        }

        fn len(&self) -> u32 {
            // SAFETY: the buffer holds a valid SID.
            unsafe { GetLengthSid(self.as_psid()) }
        }

        fn well_known(kind: WELL_KNOWN_SID_TYPE) -> io::Result<Sid> {
            let mut buffer = vec![0u64; (SECURITY_MAX_SID_SIZE as usize).div_ceil(8)];
            let mut size = SECURITY_MAX_SID_SIZE;
            // SAFETY: the buffer is SECURITY_MAX_SID_SIZE bytes, as `size` says.
            let made = unsafe {
                CreateWellKnownSid(kind, null_mut(), buffer.as_mut_ptr().cast(), &mut size)
            };
            if made == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Sid(buffer))
        }

        /// The user this process runs as.
        fn current_user() -> io::Result<Sid> {
            struct Token(HANDLE);
            impl Drop for Token {
                fn drop(&mut self) {
                    // SAFETY: the handle was opened below and is closed once.
                    unsafe { CloseHandle(self.0) };
                }
            }
            let mut handle: HANDLE = null_mut();
            // SAFETY: the pseudo-handle of this process; `handle` receives the token.
            if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut handle) } == 0 {
                return Err(io::Error::last_os_error());
            }
            let token = Token(handle);
            let mut buffer = vec![0u64; 64];
            let mut size = 0u32;
            // SAFETY: the buffer's length in bytes is passed; the answer is a TOKEN_USER
            // whose SID points into the same buffer.
            let read = unsafe {
                GetTokenInformation(
                    token.0,
                    TokenUser,
                    buffer.as_mut_ptr().cast(),
                    (buffer.len() * 8) as u32,
                    &mut size,
                )
            };
            if read == 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: GetTokenInformation filled a TOKEN_USER at the buffer's start.
            let user = unsafe { &*(buffer.as_ptr() as *const TOKEN_USER) };
            let sid = user.User.Sid;
            // SAFETY: `sid` is a valid SID inside `buffer`, of GetLengthSid bytes.
            let length = unsafe { GetLengthSid(sid) } as usize;
            let mut own = vec![0u64; length.div_ceil(8)];
            // SAFETY: both regions are at least `length` bytes and do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(sid as *const u8, own.as_mut_ptr().cast(), length)
            };
            Ok(Sid(own))
        }
    }

    /// Who may reach a restricted file.
    fn owners() -> io::Result<[Sid; 3]> {
        Ok([
            Sid::current_user()?,
            Sid::well_known(WinLocalSystemSid)?,
            Sid::well_known(WinBuiltinAdministratorsSid)?,
        ])
    }

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    pub fn restrict(path: &Path, folder: bool) -> io::Result<()> {
        let owners = owners()?;
        let ace_size = |sid: &Sid| {
            std::mem::size_of::<ACCESS_ALLOWED_ACE>() - std::mem::size_of::<u32>()
                + sid.len() as usize
        };
        let acl_size = std::mem::size_of::<ACL>() + owners.iter().map(ace_size).sum::<usize>();
        let mut acl = vec![0u64; acl_size.div_ceil(8)];
        let acl_ptr = acl.as_mut_ptr() as *mut ACL;
        let inherit = if folder {
            OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE
        } else {
            0
        };
        // SAFETY: the buffer is `acl_size` bytes, enough for the header and every entry.
        unsafe {
            if InitializeAcl(acl_ptr, acl_size as u32, ACL_REVISION) == 0 {
                return Err(io::Error::last_os_error());
            }
            for sid in &owners {
                if AddAccessAllowedAceEx(
                    acl_ptr,
                    ACL_REVISION,
                    inherit,
                    FILE_ALL_ACCESS,
                    sid.as_psid(),
                ) == 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        let name = wide(path);
        // SAFETY: a NUL-terminated path and a valid access list, both alive for the call.
        let status = unsafe {
            SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                acl_ptr,
                null(),
            )
        };
        if status != 0 {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        Ok(())
    }

    pub fn is_owner_only(path: &Path) -> io::Result<bool> {
        struct Descriptor(PSECURITY_DESCRIPTOR);
        impl Drop for Descriptor {
            fn drop(&mut self) {
                // SAFETY: allocated by GetNamedSecurityInfoW, freed once.
                unsafe { LocalFree(self.0) };
            }
        }
        let owners = owners()?;
        let name = wide(path);
        let mut dacl: *mut ACL = null_mut();
        let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
        // SAFETY: a NUL-terminated path; the answers are written to the pointers given.
        let status = unsafe {
            GetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                &mut dacl,
                null_mut(),
                &mut descriptor,
            )
        };
        if status != 0 {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        let _freed_at_return = Descriptor(descriptor);
        // A missing access list lets everyone in.
        if dacl.is_null() {
            return Ok(false);
        }
        // SAFETY: `dacl` points into the descriptor, alive until it is dropped.
        let count = unsafe { (*dacl).AceCount };
        for index in 0..u32::from(count) {
            let mut ace: *mut core::ffi::c_void = null_mut();
            // SAFETY: `index` is below the list's count.
            if unsafe { GetAce(dacl, index, &mut ace) } == 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: every entry starts with a header.
            let header = unsafe { &*(ace as *const ACE_HEADER) };
            if header.AceType != ACCESS_ALLOWED_ACE_TYPE {
                continue; // a denial takes nothing away from this answer
            }
            // SAFETY: an allowing entry; its SID starts at SidStart.
            let sid =
                unsafe { std::ptr::addr_of_mut!((*(ace as *mut ACCESS_ALLOWED_ACE)).SidStart) }
                    as PSID;
            // SAFETY: both are valid SIDs.
            let known = owners
                .iter()
                .any(|owner| unsafe { EqualSid(owner.as_psid(), sid) } != 0);
            if !known {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
