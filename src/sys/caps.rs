//! Linux capabilities of the process: what it has, and dropping all but what the transport
//! needs once it is open (capget/capset through libc, as nix does not wrap them).

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

/// Drops capabilities once the transport is open, and sets PR_SET_NO_NEW_PRIVS so that nothing
/// can be regained through exec of a setuid/file-capability binary.
///
/// What is kept:
/// * TCP / serial transports: **nothing** (effective, permitted and inheritable all empty).
/// * Raw HCI socket: **CAP_NET_RAW only** (if the process had it). The kernel checks it on every
///   `sendmsg` of an LE command (without it: EPERM), so the scan could not be re-enabled by the
///   watchdog or disabled at exit, and a re-opened socket's filter would lose LE Meta.
///   CAP_NET_ADMIN (only for bringing a down adapter up, HCIDEVUP) and everything else is
///   dropped: an adapter that comes back *down* after being unplugged then needs
///   `hciconfig hciN up` / bluetoothd, which the reconnect error says.
///
/// Capabilities are per thread; the loop is the process's only thread.
pub fn drop_privileges(keep_net_raw: bool) -> io::Result<()> {
    let cur = capget()?;
    let mut d = [CapData::default(); 2];
    if keep_net_raw {
        let bit = 1u32 << CAP_NET_RAW;
        d[0].permitted = cur[0].permitted & bit;
        d[0].effective = d[0].permitted;
    }
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: capset with a v3 header reads two cap data structs.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_privileges_empties_the_sets() {
        // In a thread of its own: capabilities are per thread, the test runner's stay intact.
        std::thread::spawn(|| {
            let (_, before) = current_capabilities().unwrap();
            drop_privileges(true).unwrap();
            let (eff, perm) = current_capabilities().unwrap();
            assert_eq!(
                perm,
                before & (1 << CAP_NET_RAW),
                "only CAP_NET_RAW may survive"
            );
            assert_eq!(eff, perm);
            drop_privileges(false).unwrap();
            assert_eq!(current_capabilities().unwrap(), (0, 0));
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
