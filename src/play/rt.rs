//! Operating-system knobs for the real-time threads: SCHED_FIFO priority and timer slack.

/// What the scheduler thread got when it asked for real-time scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtStatus {
    /// SCHED_FIFO at this priority.
    Fifo(i32),
    /// Refused with this errno (EPERM: no CAP_SYS_NICE or RLIMIT_RTPRIO).
    Refused(i32),
    /// Not asked for.
    NotAsked,
}

impl RtStatus {
    pub fn granted(&self) -> bool {
        matches!(self, RtStatus::Fifo(_))
    }

    pub fn describe(&self) -> String {
        match self {
            RtStatus::Fifo(p) => format!("SCHED_FIFO priority {p}"),
            RtStatus::Refused(e) => format!(
                "SCHED_FIFO refused ({}), running at normal priority",
                std::io::Error::from_raw_os_error(*e)
            ),
            RtStatus::NotAsked => "normal priority (real time not requested)".into(),
        }
    }

    /// Packs into an `i32` for an atomic: priority (> 0), `-errno`, or 0 for not asked.
    pub fn pack(&self) -> i32 {
        match self {
            RtStatus::Fifo(p) => *p,
            RtStatus::Refused(e) => -e.max(&1),
            RtStatus::NotAsked => 0,
        }
    }

    pub fn unpack(v: i32) -> Self {
        match v {
            0 => RtStatus::NotAsked,
            p if p > 0 => RtStatus::Fifo(p),
            e => RtStatus::Refused(-e),
        }
    }
}

/// Asks for SCHED_FIFO at `priority` (1..=99) for the calling thread, and the finest timer slack
/// so absolute-deadline sleeps wake on time.
pub fn make_current_thread_realtime(priority: i32) -> RtStatus {
    // SAFETY: prctl with PR_SET_TIMERSLACK takes an unsigned long and affects only this thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    let param = libc::sched_param {
        sched_priority: priority.clamp(1, 99),
    };
    // SAFETY: pthread_self() is always a valid handle for the calling thread; `param` is a
    // valid sched_param that outlives the call.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    if rc == 0 {
        RtStatus::Fifo(param.sched_priority)
    } else {
        RtStatus::Refused(rc)
    }
}

/// Runs a real-time section: in debug builds under `assert_no_alloc`, so any allocation aborts
/// where the test binary installs its allocator; in release builds as it is.
#[inline]
pub fn rt_section<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(debug_assertions)]
    return assert_no_alloc::assert_no_alloc(f);
    #[cfg(not(debug_assertions))]
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_packs_and_describes() {
        for s in [RtStatus::Fifo(70), RtStatus::Refused(1), RtStatus::NotAsked] {
            assert_eq!(RtStatus::unpack(s.pack()), s);
        }
        assert!(RtStatus::Refused(1).describe().contains("refused"));
        // Whatever the machine allows, the request answers rather than failing.
        let got = std::thread::spawn(|| make_current_thread_realtime(10))
            .join()
            .unwrap();
        assert!(matches!(got, RtStatus::Fifo(10) | RtStatus::Refused(_)));
    }
}
