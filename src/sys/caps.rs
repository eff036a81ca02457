//! Linux capabilities of the process: what it has, dropping all but what the transport needs
//! before anything is opened, and raising CAP_NET_ADMIN for the one call that needs it
//! (capget/capset through libc, as nix does not wrap them).

use std::io;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct` (two of them for 64 capability bits).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;

fn capget() -> io::Result<[CapData; 2]> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: capget with a v3 header writes two cap data structs.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(d)
}

/// The calling thread's (effective, permitted) capability sets as bit masks.
pub fn current_capabilities() -> io::Result<(u64, u64)> {
    let d = capget()?;
    Ok((
        d[0].effective as u64 | (d[1].effective as u64) << 32,
        d[0].permitted as u64 | (d[1].permitted as u64) << 32,
    ))
}

/// What the process keeps when it drops its capabilities at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// TCP / serial transports and captures: nothing at all.
    Nothing,
    /// Raw HCI socket: CAP_NET_RAW effective, CAP_NET_ADMIN permitted only (if the process had
    /// them). The kernel checks CAP_NET_RAW on every LE command and on the socket filter of each
    /// (re)opened socket, so it stays effective. CAP_NET_ADMIN is needed only at the moment an
    /// adapter that came back *down* (unplugged, reset, driver reload) is brought up (HCIDEVUP)
    /// and when the kernel's management socket is bound (a trusted one may add the
    /// advertisement monitor that makes the kernel scan for us): [`with_net_admin`] raises it
    /// for those calls and lowers it again, so nothing else the process does runs with it.
    RawSocket,
}

fn capset(d: &[CapData; 2]) -> io::Result<()> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: capset with a v3 header reads two cap data structs.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Drops every capability but what `keep` names (see [`Keep`]), clears the inheritable (and so
/// the ambient) set, and sets PR_SET_NO_NEW_PRIVS so that nothing can be regained through exec
/// of a setuid/file-capability binary. Called before the first open, so the process holds no
/// more than this even when the link never comes up.
///
/// Capabilities are per thread; the loop is the process's only thread.
pub fn drop_privileges(keep: Keep) -> io::Result<()> {
    let cur = capget()?;
    let mut d = [CapData::default(); 2];
    if keep == Keep::RawSocket {
        let raw = 1u32 << CAP_NET_RAW;
        let admin = 1u32 << CAP_NET_ADMIN;
        d[0].permitted = cur[0].permitted & (raw | admin);
        d[0].effective = cur[0].permitted & raw;
    }
    capset(&d)?;
    // SAFETY: prctl with integer arguments only.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `f` with CAP_NET_ADMIN effective when it is permitted, and lowers it again afterwards.
/// Without it permitted, `f` runs as it is (and meets the kernel's EPERM, which the callers
/// explain with the `setcap` line).
pub fn with_net_admin<T>(f: impl FnOnce() -> T) -> T {
    let bit = 1u32 << CAP_NET_ADMIN;
    let raised = match capget() {
        Ok(cur) if cur[0].permitted & bit != 0 && cur[0].effective & bit == 0 => {
            let mut d = cur;
            d[0].effective |= bit;
            capset(&d).ok().map(|()| cur)
        }
        _ => None,
    };
    let out = f();
    if let Some(before) = raised {
        let _ = capset(&before);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_privileges_keeps_only_what_the_raw_socket_needs() {
        // In a thread of its own: capabilities are per thread, the test runner's stay intact.
        std::thread::spawn(|| {
            let (_, before) = current_capabilities().unwrap();
            let raw = 1 << CAP_NET_RAW;
            let admin = 1 << CAP_NET_ADMIN;
            drop_privileges(Keep::RawSocket).unwrap();
            let (eff, perm) = current_capabilities().unwrap();
            assert_eq!(perm, before & (raw | admin), "only these two may survive");
            assert_eq!(eff, before & raw, "CAP_NET_ADMIN is not effective");
            let inside = with_net_admin(|| current_capabilities().unwrap().0);
            assert_eq!(inside, before & (raw | admin), "raised for the call");
            assert_eq!(
                current_capabilities().unwrap().0,
                before & raw,
                "lowered after"
            );
            drop_privileges(Keep::Nothing).unwrap();
            assert_eq!(current_capabilities().unwrap(), (0, 0));
            // Nothing permitted: the call runs unchanged.
            assert_eq!(with_net_admin(|| current_capabilities().unwrap()), (0, 0));
            // SAFETY: prctl query with no pointers.
            assert_eq!(
                unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) },
                1
            );
        })
        .join()
        .unwrap();
    }
}
