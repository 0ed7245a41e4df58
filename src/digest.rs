//! SHA-256 in lower-case hex: the one form checksums, cache keys and
//! fingerprints take everywhere (Cargo.lock and registry indexes use it).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A file's SHA-256, read in blocks (a `.crate` may be large). Only a
/// regular file is read: a named pipe put where a scanned file was would
/// block forever, and a device never ends.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        )
    };
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let mut file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap();
        assert!(made.success());
        // Would block forever if it were opened for a plain read.
        assert!(file_sha256(&pipe).is_err());
        assert!(file_sha256(dir.path()).is_err());
        std::fs::write(dir.path().join("f"), "x").unwrap();
        assert!(file_sha256(&dir.path().join("f")).is_ok());
    }
}
