//! One cache entry on disk, and the checks that decide whether it may be
//! trusted.
//!
//! Whoever can write the cache directory (another user, a restored CI
//! cache) controls what it holds, so an entry is read as untrusted input:
//! it is opened without following a symbolic link and without blocking on
//! a named pipe, it must be a regular file no larger than
//! [`MAX_ENTRY_BYTES`], and its first line names the full key it was made
//! for and the SHA-256 and length of the body that follows. An entry moved
//! under another key's name (a clean scan swapped into the place of a
//! malicious crate's), cut short, or edited without its header is rejected
//! and the package rescanned.
//!
//! The digest is not a signature: someone who can write the cache and
//! rewrites the header too is not stopped by it (see ARCHITECTURE.md).

use std::io::Read;
use std::path::Path;

use sha2::Digest;

use crate::digest::sha256_hex;

/// An entry larger than this is not read (a scan's findings and exports
/// are a small fraction of it, even for the largest crates).
pub const MAX_ENTRY_BYTES: u64 = 128 << 20;

/// The first line of an entry.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    key: String,
    sha256: String,
    bytes: u64,
}

/// An entry's bytes: the header line, then `body`.
pub fn encode(key: &str, body: &[u8]) -> Vec<u8> {
    let header = Header {
        key: key.to_owned(),
        sha256: sha256_hex(body),
        bytes: body.len() as u64,
    };
    let mut out = serde_json::to_vec(&header).expect("a header serialises");
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// Why an entry was not used.
pub enum Rejected {
    /// There is none (or no directory where one would be).
    Absent,
    /// It cannot be read at all: the cache itself is unreadable.
    Unreadable(String),
    /// It is there but must not be trusted; it is removed.
    Untrusted(String),
}

/// The body of the entry at `path` if it is a regular file made for `key`
/// whose body still matches its digest.
pub fn read(path: &Path, key: &str) -> Result<Vec<u8>, Rejected> {
    let mut file = match open_untrusted(path) {
        Ok(file) => file,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Err(Rejected::Absent);
        }
        Err(e) if is_symlink_refusal(&e) => {
            return Err(Rejected::Untrusted("is a symbolic link".into()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Rejected::Unreadable(format!("{}: {e}", path.display())));
        }
        Err(e) => return Err(Rejected::Untrusted(format!("cannot be opened ({e})"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| Rejected::Untrusted(format!("cannot be inspected ({e})")))?;
    if !meta.is_file() {
        return Err(Rejected::Untrusted("is not a regular file".into()));
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Err(Rejected::Untrusted(format!(
            "is larger than {} MiB",
            MAX_ENTRY_BYTES >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Rejected::Untrusted(format!("cannot be read ({e})")))?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(Rejected::Untrusted(format!(
            "is larger than {} MiB",
            MAX_ENTRY_BYTES >> 20
        )));
    }
    let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
        return Err(Rejected::Untrusted("has no header line".into()));
    };
    let header: Header = serde_json::from_slice(&bytes[..newline])
        .map_err(|e| Rejected::Untrusted(format!("has a corrupt header ({e})")))?;
    if header.key != key {
        return Err(Rejected::Untrusted(format!(
            "was made for another key ({})",
            header.key
        )));
    }
    let body = bytes.split_off(newline + 1);
    if body.len() as u64 != header.bytes {
        return Err(Rejected::Untrusted(format!(
            "is cut short or padded ({} bytes of body, the header says {})",
            body.len(),
            header.bytes
        )));
    }
    if sha256_hex(&body) != header.sha256 {
        return Err(Rejected::Untrusted(
            "was changed after it was written (its body does not match its digest)".into(),
        ));
    }
    Ok(body)
}

/// Marks the entry (or the unpacked crate's directory) at `path` as just
/// used (eviction goes by age), without following a link that may have
/// replaced it since it was read. Opened read-only: a directory cannot be
/// opened for writing, and its owner may set its times either way.
pub fn touch(path: &Path) {
    if let Ok(file) = open_with(path, false, false) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

/// The SHA-256 of a source file an entry names (`relative` to `root`), or
/// `None` when it is not a plain relative path to a regular file. A named
/// pipe is refused when opened, never waited on.
pub fn source_digest(root: &Path, relative: &str) -> Option<String> {
    let relative = Path::new(relative);
    if !relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    let mut file = open_with(&root.join(relative), true, false).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(crate::digest::hex(&hasher.finalize()))
}

fn open_untrusted(path: &Path) -> std::io::Result<std::fs::File> {
    open_with(path, false, false)
}

/// Opens a file for reading (or writing) without waiting for a writer if it
/// is a named pipe, and without following a final symbolic link unless
/// `follow`.
#[cfg(unix)]
fn open_with(path: &Path, follow: bool, write: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    std::fs::File::options()
        .read(!write)
        .write(write)
        .custom_flags(nofollow | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_with(path: &Path, follow: bool, write: bool) -> std::io::Result<std::fs::File> {
    let meta = if follow {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    if !meta.is_file() {
        return Err(std::io::Error::other("is not a regular file"));
    }
    std::fs::File::options()
        .read(!write)
        .write(write)
        .open(path)
}

/// `O_NOFOLLOW` on a symbolic link fails with `ELOOP`.
#[cfg(unix)]
fn is_symlink_refusal(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_symlink_refusal(_: &std::io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::{Rejected, encode, read};

    fn reason(result: Result<Vec<u8>, Rejected>) -> String {
        match result {
            Ok(_) => "accepted".into(),
            Err(Rejected::Absent) => "absent".into(),
            Err(Rejected::Unreadable(m)) => format!("unreadable: {m}"),
            Err(Rejected::Untrusted(m)) => m,
        }
    }

    #[test]
    fn an_entry_is_used_only_for_its_key_and_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.json");
        std::fs::write(&path, encode("k1", b"{\"a\":1}")).unwrap();
        assert_eq!(read(&path, "k1").ok().unwrap(), b"{\"a\":1}");
        assert!(reason(read(&path, "k2")).contains("another key"));
        let mut edited = encode("k1", b"{\"a\":1}");
        *edited.last_mut().unwrap() = b']';
        std::fs::write(&path, &edited).unwrap();
        assert!(reason(read(&path, "k1")).contains("does not match its digest"));
        let whole = encode("k1", b"{\"a\":1}");
        std::fs::write(&path, &whole[..whole.len() - 2]).unwrap();
        assert!(reason(read(&path, "k1")).contains("cut short"));
        std::fs::write(&path, b"{\"scan\": 1}").unwrap();
        assert!(reason(read(&path, "k1")).contains("header"));
        assert_eq!(reason(read(&dir.path().join("none"), "k1")), "absent");
    }
}
