//! Quiet error handlers for the audio and MIDI libraries: libasound (and libjack, when no server
//! runs) print several lines to stderr when they find no device, which would garble the TUI.
//! Their messages are counted and kept here instead, for improv's log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

static INSTALL: Once = Once::new();
static COUNT: AtomicU64 = AtomicU64::new(0);
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
const LOG_MAX: usize = 64;

#[cfg(target_os = "linux")]
unsafe extern "C" fn quiet(
    _file: *const libc::c_char,
    _line: libc::c_int,
    function: *const libc::c_char,
    err: libc::c_int,
    _fmt: *const libc::c_char,
) {
    let func = if function.is_null() {
        String::from("?")
    } else {
        // SAFETY: libasound passes its own NUL-terminated function name (`__func__`).
        unsafe { std::ffi::CStr::from_ptr(function) }
            .to_string_lossy()
            .into_owned()
    };
    keep(format!(
        "alsa: {func}: {}",
        std::io::Error::from_raw_os_error(-err)
    ));
}

fn keep(line: String) {
    COUNT.fetch_add(1, Ordering::Relaxed);
    // try_lock: JACK may call from its own threads, which must never wait here.
    if let Ok(mut log) = LOG.try_lock() {
        if log.len() < LOG_MAX {
            log.push(line);
        }
    }
}

#[cfg(feature = "jack")]
unsafe extern "C" fn jack_message(msg: *const libc::c_char) {
    if !msg.is_null() {
        // SAFETY: libjack passes a NUL-terminated message string.
        let text = unsafe { std::ffi::CStr::from_ptr(msg) }.to_string_lossy();
        keep(format!("jack: {text}"));
    }
}

/// Installs the handlers once per process; later calls do nothing.
pub fn quiet_backends() {
    INSTALL.call_once(|| {
        #[cfg(feature = "jack")]
        jack::set_logger(jack::LoggerType::Custom {
            info: jack_message,
            error: jack_message,
        });
        #[cfg(target_os = "linux")]
        {
            type Fixed = unsafe extern "C" fn(
                *const libc::c_char,
                libc::c_int,
                *const libc::c_char,
                libc::c_int,
                *const libc::c_char,
            );
            let handler: Fixed = quiet;
            // SAFETY: libasound calls the handler as a C variadic function. On the Linux ABIs
            // (System V x86-64, AAPCS64) the named arguments of a variadic call are passed
            // exactly as for a fixed-argument call, and a callee that reads none of the variadic
            // ones may ignore them, so a fixed five-argument function is a valid target.
            unsafe {
                let h: alsa_sys::snd_lib_error_handler_t = Some(std::mem::transmute::<
                    Fixed,
                    unsafe extern "C" fn(
                        *const libc::c_char,
                        libc::c_int,
                        *const libc::c_char,
                        libc::c_int,
                        *const libc::c_char,
                        ...
                    ),
                >(handler));
                alsa_sys::snd_lib_error_set_handler(h);
            }
        }
    });
}

/// How many messages the libraries have reported, and the first few of them.
pub fn backend_messages() -> (u64, Vec<String>) {
    let log = LOG.lock().map(|l| l.clone()).unwrap_or_default();
    (COUNT.load(Ordering::Relaxed), log)
}
