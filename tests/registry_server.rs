//! A sparse registry on 127.0.0.1 for the `vet-bom` tests: `.crate` archives
//! built from `fixtures/registry/NAME-VERSION/` (or by hand, for archives
//! that must not be unpacked), their index entries, and a real HTTP/1.1
//! server that serves both.
//!
//! The server listens on `127.0.0.1:0` in a background thread and answers
//! one request per connection (`Connection: close`, `Content-Length`):
//!
//! - `/index/config.json`: `{"dl": ...}` (a template with `{crate}`,
//!   `{version}`, `{prefix}`, `{lowerprefix}`, `{sha256-checksum}`, or a
//!   plain base URL, see [`Dl`]);
//! - `/index/<sparse path of the name>`: one JSON line per published version;
//! - the download path of every published version: its archive (or other
//!   bytes, see [`Published::serve`]);
//! - routes set with [`Registry::route`], which take precedence, and
//!   hostile ones set with [`Registry::hostile`] (silent, trickling,
//!   endless, or declaring a huge size), each served on a thread of its
//!   own so it stalls only its own client;
//! - `404` for anything else.
//!
//! [`Registry::stop_after_downloads`] makes the server close its listener
//! after serving that many archives, so later requests are refused.
//! Nothing here reaches any other host.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::util;

/// The `pubtime` of every published version unless a test sets another.
pub const OLD_PUBTIME: &str = "2020-01-01T00:00:00Z";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sparse-index path of a crate name, without the index root:
/// `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde` (lowercased).
pub fn index_path(name: &str) -> String {
    let n = name.to_lowercase();
    format!("{}/{n}", prefix(&n))
}

/// Cargo's `{prefix}` of a download template (`{lowerprefix}` is this of the
/// lowercased name): `1`, `2`, `3/a`, `se/rd`.
pub fn prefix(name: &str) -> String {
    match name.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[0..2], &name[2..4]),
    }
}

// ---------------------------------------------------------------------------
// Archives

/// A tar archive built entry by entry, deterministically (mode 0644, mtime 0,
/// uid/gid 0, ustar headers), gzip'd by [`Archive::gz`].
pub struct Archive {
    builder: tar::Builder<Vec<u8>>,
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes `bytes` into a fixed-size header field, bypassing the checks of
/// `tar` (which refuses `..`, absolute paths and the like).
fn set_field(field: &mut [u8], bytes: &[u8]) {
    assert!(
        bytes.len() <= field.len(),
        "{:?} does not fit a {}-byte tar field",
        String::from_utf8_lossy(bytes),
        field.len()
    );
    field.fill(0);
    field[..bytes.len()].copy_from_slice(bytes);
}

impl Default for Archive {
    fn default() -> Self {
        Self::new()
    }
}

impl Archive {
    pub fn new() -> Archive {
        Archive {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// A regular file at a well-formed relative `path`.
    pub fn file(mut self, path: &str, data: &[u8]) -> Archive {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        self.builder
            .append_data(&mut h, path, data)
            .unwrap_or_else(|e| panic!("tar entry {path}: {e}"));
        self
    }

    /// A regular file whose name field holds exactly `name` (`../x`, `/x`).
    pub fn raw_file(mut self, name: &[u8], data: &[u8]) -> Archive {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        set_field(&mut h.as_old_mut().name, name);
        h.set_cksum();
        self.builder.append(&h, data).expect("raw tar entry");
        self
    }

    /// A symbolic link at `path` pointing to `target` (written as is).
    pub fn symlink(self, path: &str, target: &[u8]) -> Archive {
        self.link(tar::EntryType::Symlink, path, target)
    }

    /// A hard link at `path` to `target` (written as is).
    pub fn hardlink(self, path: &str, target: &[u8]) -> Archive {
        self.link(tar::EntryType::Link, path, target)
    }

    fn link(mut self, kind: tar::EntryType, path: &str, target: &[u8]) -> Archive {
        let mut h = header(kind, 0);
        set_field(&mut h.as_old_mut().name, path.as_bytes());
        set_field(&mut h.as_old_mut().linkname, target);
        h.set_cksum();
        self.builder.append(&h, &[][..]).expect("link tar entry");
        self
    }

    /// The tar bytes, with the end-of-archive blocks.
    pub fn into_tar(self) -> Vec<u8> {
        self.builder.into_inner().expect("finish tar")
    }

    /// The gzip'd tar: a `.crate` file.
    pub fn gz(self) -> Vec<u8> {
        gzip(&self.into_tar())
    }
}

/// Deterministic gzip (no file name, mtime 0).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new().write(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// The files of `dir`, recursively, as sorted `/`-separated relative paths.
fn files_of(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap();
                let rel: Vec<_> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(rel.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// `.crate` bytes of a directory: every file under `NAME-VERSION/`.
pub fn crate_from_dir(dir: &Path, name: &str, vers: &str) -> Vec<u8> {
    let mut archive = Archive::new();
    for rel in files_of(dir) {
        let data = std::fs::read(dir.join(&rel)).unwrap();
        archive = archive.file(&format!("{name}-{vers}/{rel}"), &data);
    }
    archive.gz()
}

/// `.crate` bytes of a small crate written in the test: a `Cargo.toml` and
/// `src/lib.rs` with `lib_rs`.
pub fn simple_crate(name: &str, vers: &str, lib_rs: &str) -> Vec<u8> {
    crate_base(name, vers, lib_rs).gz()
}

/// The archive of [`simple_crate`], to add more entries to.
pub fn crate_base(name: &str, vers: &str, lib_rs: &str) -> Archive {
    Archive::new()
        .file(
            &format!("{name}-{vers}/Cargo.toml"),
            cargo_toml(name, vers).as_bytes(),
        )
        .file(&format!("{name}-{vers}/src/lib.rs"), lib_rs.as_bytes())
}

pub fn cargo_toml(name: &str, vers: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"{vers}\"\nedition = \"2021\"\n")
}

/// A `.crate` whose one entry, `NAME-VERSION/src/lib.rs`, holds `size` zero
/// bytes (a multiple of 512): a few MB of gzip that unpack to `size` bytes.
pub fn gzip_bomb(name: &str, vers: &str, size: u64) -> Vec<u8> {
    gzip_bomb_entries(&[(format!("{name}-{vers}/src/lib.rs"), size)])
}

/// A `.crate` of regular files `(path, size)`, each holding `size` zero
/// bytes (a multiple of 512).
///
/// Compressing gigabytes of zeros takes seconds, so the deflate stream is
/// built the way a compressor would write it but without the work: once
/// the compressor's window is all zeros, each further MiB of zeros
/// compresses (with a sync flush) to the same bytes, which are repeated.
/// The gzip trailer (CRC-32, size) is exact, so the archive is valid to
/// its last byte (`harness_gzip_bomb_is_a_valid_archive` checks it).
pub fn gzip_bomb_entries(entries: &[(String, u64)]) -> Vec<u8> {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK];
    let mut chunk_crc = Crc::new();
    chunk_crc.update(&zeros);
    let mut c = Compress::new(Compression::best(), false);
    let mut deflated = Vec::new();
    let mut crc = Crc::new();
    let mut total: u64 = 0;

    // `count` zero bytes, after whatever came before.
    let zeros_out = |c: &mut Compress, deflated: &mut Vec<u8>, crc: &mut Crc, count: u64| {
        let full_chunks = count / CHUNK as u64;
        let tail = (count % CHUNK as u64) as usize;
        let mut emitted = 0u64;
        let mut previous: Option<Vec<u8>> = None;
        while emitted < full_chunks {
            let block = deflate(c, &zeros, FlushCompress::Sync);
            deflated.extend_from_slice(&block);
            emitted += 1;
            if previous.as_ref() == Some(&block) {
                // Steady state: the rest of the zeros compress to this block.
                for _ in emitted..full_chunks {
                    deflated.extend_from_slice(&block);
                }
                break;
            }
            previous = Some(block);
        }
        for _ in 0..full_chunks {
            crc.combine(&chunk_crc);
        }
        deflated.extend_from_slice(&deflate(c, &zeros[..tail], FlushCompress::Sync));
        let mut tail_crc = Crc::new();
        tail_crc.update(&zeros[..tail]);
        crc.combine(&tail_crc);
    };

    for (path, size) in entries {
        assert_eq!(size % 512, 0, "bomb entry size must be a multiple of 512");
        let mut h = header(tar::EntryType::Regular, *size);
        h.set_path(path).expect("bomb path");
        h.set_cksum();
        deflated.extend_from_slice(&deflate(&mut c, h.as_bytes(), FlushCompress::Sync));
        crc.update(h.as_bytes());
        zeros_out(&mut c, &mut deflated, &mut crc, *size);
        total += 512 + size;
    }
    // The two zero blocks that end the archive.
    zeros_out(&mut c, &mut deflated, &mut crc, 1024);
    total += 1024;
    deflated.extend_from_slice(&deflate(&mut c, &[], FlushCompress::Finish));

    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((total & 0xffff_ffff) as u32).to_le_bytes());
    out
}

/// Raw deflate of `input` with `flush`, all of its output.
fn deflate(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(input.len() / 64 + 4096);
    let mut pos = 0;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let before = c.total_in();
        let status = c
            .compress_vec(&input[pos..], &mut out, flush)
            .expect("deflate");
        pos += (c.total_in() - before) as usize;
        let done = match flush {
            FlushCompress::Finish => matches!(status, Status::StreamEnd),
            _ => pos == input.len() && out.len() < out.capacity(),
        };
        if done {
            return out;
        }
    }
}

// ---------------------------------------------------------------------------
// Published versions and the index

/// One version of a crate in the test registry.
#[derive(Clone, Debug)]
pub struct Published {
    pub name: String,
    pub vers: String,
    /// The archive the index `cksum` is computed from.
    pub archive: Vec<u8>,
    /// Bytes served for the download instead of `archive`.
    pub served: Option<Vec<u8>>,
    /// The `cksum` written in the index instead of the archive's.
    pub cksum_override: Option<String>,
    pub yanked: bool,
    pub pubtime: Option<String>,
    /// (name, req) of each normal dependency.
    pub deps: Vec<(String, String)>,
    /// false: an index line only, no download route.
    pub downloadable: bool,
}

impl Published {
    /// `fixtures/registry/DIR`: name, version and dependencies from its
    /// `Cargo.toml`, the archive packed from its files.
    pub fn fixture(dir: &str) -> Published {
        let root = util::fixture_dir("registry").join(dir);
        let text = std::fs::read_to_string(root.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        let manifest: toml::Table = toml::from_str(&text).expect("fixture manifest");
        let pkg = manifest["package"].as_table().expect("[package]");
        let name = pkg["name"].as_str().unwrap().to_string();
        let vers = pkg["version"].as_str().unwrap().to_string();
        assert_eq!(dir, format!("{name}-{vers}"), "fixture dir name");
        let mut deps = Vec::new();
        if let Some(table) = manifest.get("dependencies").and_then(|d| d.as_table()) {
            for (dep, spec) in table {
                let req = match spec {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Table(t) => t["version"].as_str().unwrap().to_string(),
                    other => panic!("dependency {dep}: {other}"),
                };
                let req = if req.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("^{req}")
                } else {
                    req
                };
                deps.push((dep.clone(), req));
            }
        }
        let archive = crate_from_dir(&root, &name, &vers);
        Published::archive(&name, &vers, archive).with_deps(deps)
    }

    /// A version whose archive is `bytes`.
    pub fn archive(name: &str, vers: &str, bytes: Vec<u8>) -> Published {
        Published {
            name: name.to_string(),
            vers: vers.to_string(),
            archive: bytes,
            served: None,
            cksum_override: None,
            yanked: false,
            pubtime: Some(OLD_PUBTIME.to_string()),
            deps: Vec::new(),
            downloadable: true,
        }
    }

    /// A version that is only in the index (nothing to download).
    pub fn index_only(name: &str, vers: &str) -> Published {
        let mut p =
            Published::archive(name, vers, format!("no archive {name} {vers}").into_bytes());
        p.downloadable = false;
        p
    }

    pub fn yanked(mut self) -> Published {
        self.yanked = true;
        self
    }

    pub fn pubtime(mut self, t: &str) -> Published {
        self.pubtime = Some(t.to_string());
        self
    }

    /// Serves `bytes` for the download while the index keeps the archive's
    /// checksum.
    pub fn serve(mut self, bytes: Vec<u8>) -> Published {
        self.served = Some(bytes);
        self
    }

    pub fn with_deps(mut self, deps: Vec<(String, String)>) -> Published {
        self.deps = deps;
        self
    }

    pub fn cksum(&self) -> String {
        self.cksum_override
            .clone()
            .unwrap_or_else(|| sha256_hex(&self.archive))
    }

    /// The bytes the download route serves.
    pub fn served_bytes(&self) -> &[u8] {
        self.served.as_deref().unwrap_or(&self.archive)
    }

    /// The index line of this version.
    pub fn index_line(&self) -> String {
        let deps: Vec<Value> = self
            .deps
            .iter()
            .map(|(name, req)| {
                json!({
                    "name": name, "req": req, "features": [], "optional": false,
                    "default_features": true, "target": null, "kind": "normal"
                })
            })
            .collect();
        let mut line = json!({
            "name": self.name,
            "vers": self.vers,
            "deps": deps,
            "cksum": self.cksum(),
            "features": {},
            "yanked": self.yanked,
        });
        if let Some(t) = &self.pubtime {
            line["pubtime"] = json!(t);
        }
        line.to_string()
    }
}

/// How `config.json` says where archives are.
#[derive(Clone, Debug)]
pub enum Dl {
    /// `http://ADDR` + this, with cargo's markers (`{crate}`, `{version}`,
    /// `{prefix}`, `{lowerprefix}`, `{sha256-checksum}`).
    Template(String),
    /// `http://ADDR` + this, a plain base: `/{crate}/{version}/download` is
    /// appended.
    Base(String),
}

impl Dl {
    fn config_value(&self, origin: &str) -> String {
        match self {
            Dl::Template(t) | Dl::Base(t) => format!("{origin}{t}"),
        }
    }

    /// The path (and query) an archive is served at.
    fn path_for(&self, p: &Published) -> String {
        match self {
            Dl::Template(t) => t
                .replace("{crate}", &p.name)
                .replace("{version}", &p.vers)
                .replace("{prefix}", &prefix(&p.name))
                .replace("{lowerprefix}", &prefix(&p.name.to_lowercase()))
                .replace("{sha256-checksum}", &p.cksum()),
            Dl::Base(b) => format!("{b}/{}/{}/download", p.name, p.vers),
        }
    }
}

// ---------------------------------------------------------------------------
// The server

#[derive(Clone, Debug)]
struct Route {
    status: u16,
    body: Vec<u8>,
    /// `name@version` when this route is an archive download.
    download: Option<String>,
    behaviour: Option<Hostile>,
}

/// How a hostile route misbehaves.
#[derive(Clone, Copy, Debug)]
pub enum Hostile {
    /// Accepts the connection, reads the request, never answers.
    Silent,
    /// Declares `bytes` in `Content-Length`, then sends one byte per
    /// `every`.
    Trickle { bytes: u64, every: Duration },
    /// `200` without a length, then zeros until the client hangs up.
    Endless,
    /// Declares `bytes` in `Content-Length`, sends a few, and closes.
    Declares { bytes: u64 },
}

/// What a test registry holds before it starts serving.
pub struct Registry {
    crates: Vec<Published>,
    routes: BTreeMap<String, (u16, Vec<u8>)>,
    hostile: BTreeMap<String, Hostile>,
    dl: Dl,
    stop_after_downloads: Option<usize>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            crates: Vec::new(),
            routes: BTreeMap::new(),
            hostile: BTreeMap::new(),
            dl: Dl::Template("/dl/{crate}/{version}/download".to_string()),
            stop_after_downloads: None,
        }
    }

    pub fn publish(mut self, p: Published) -> Registry {
        self.crates.push(p);
        self
    }

    /// Publishes each `fixtures/registry/DIR`.
    pub fn fixtures(mut self, dirs: &[&str]) -> Registry {
        for dir in dirs {
            self.crates.push(Published::fixture(dir));
        }
        self
    }

    /// Answers `path` (with its query, if any) with `status` and `body`,
    /// before any other route.
    pub fn route(mut self, path: &str, status: u16, body: &[u8]) -> Registry {
        self.routes
            .insert(path.to_string(), (status, body.to_vec()));
        self
    }

    /// Misbehaves on `path` (with its query, if any), before any other
    /// route.
    pub fn hostile(mut self, path: &str, how: Hostile) -> Registry {
        self.hostile.insert(path.to_string(), how);
        self
    }

    pub fn dl(mut self, dl: Dl) -> Registry {
        self.dl = dl;
        self
    }

    /// After serving `n` archives, close the listener: later connections
    /// are refused.
    pub fn stop_after_downloads(mut self, n: usize) -> Registry {
        self.stop_after_downloads = Some(n);
        self
    }

    /// Binds `127.0.0.1:0` and serves in a background thread.
    pub fn start(self) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let mut routes: BTreeMap<String, Route> = BTreeMap::new();
        routes.insert(
            "/index/config.json".to_string(),
            Route {
                status: 200,
                body: json!({ "dl": self.dl.config_value(&origin) })
                    .to_string()
                    .into_bytes(),
                download: None,
                behaviour: None,
            },
        );
        let mut by_name: BTreeMap<String, Vec<&Published>> = BTreeMap::new();
        for p in &self.crates {
            by_name.entry(p.name.to_lowercase()).or_default().push(p);
        }
        for (name, versions) in &by_name {
            let mut body = String::new();
            for p in versions {
                body.push_str(&p.index_line());
                body.push('\n');
            }
            routes.insert(
                format!("/index/{}", index_path(name)),
                Route {
                    status: 200,
                    body: body.into_bytes(),
                    download: None,
                    behaviour: None,
                },
            );
        }
        for p in self.crates.iter().filter(|p| p.downloadable) {
            routes.insert(
                self.dl.path_for(p),
                Route {
                    status: 200,
                    body: p.served_bytes().to_vec(),
                    download: Some(format!("{}@{}", p.name, p.vers)),
                    behaviour: None,
                },
            );
        }
        for (path, (status, body)) in self.routes {
            let download = routes.get(&path).and_then(|r| r.download.clone());
            routes.insert(
                path,
                Route {
                    status,
                    body,
                    download: download.filter(|_| status == 200),
                    behaviour: None,
                },
            );
        }
        for (path, how) in self.hostile {
            routes.insert(
                path,
                Route {
                    status: 200,
                    body: Vec::new(),
                    download: None,
                    behaviour: Some(how),
                },
            );
        }
        let state = Arc::new(State::default());
        let thread_state = Arc::clone(&state);
        let stop_after = self.stop_after_downloads;
        let thread = std::thread::spawn(move || serve(listener, routes, thread_state, stop_after));
        Server {
            addr,
            state,
            thread: Some(thread),
        }
    }
}

#[derive(Default)]
struct State {
    stop: AtomicBool,
    log: Mutex<Log>,
}

#[derive(Default, Clone, Debug)]
struct Log {
    /// Every request's path, in order.
    requests: Vec<String>,
    /// `name@version` of every archive served completely.
    downloads: Vec<String>,
}

/// A running test registry; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// `sparse+http://127.0.0.1:PORT/index/`
    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.plain_index_url())
    }

    /// `http://127.0.0.1:PORT/index/`
    pub fn plain_index_url(&self) -> String {
        format!("http://{}/index/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every path requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.log.lock().unwrap().requests.clone()
    }

    /// Whether `path` was requested.
    pub fn was_asked(&self, path: &str) -> bool {
        self.state
            .log
            .lock()
            .unwrap()
            .requests
            .iter()
            .any(|r| r == path)
    }

    /// `name@version` of every archive served so far.
    pub fn downloads(&self) -> Vec<String> {
        self.state.log.lock().unwrap().downloads.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop (refused if it has already stopped).
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    listener: TcpListener,
    routes: BTreeMap<String, Route>,
    state: Arc<State>,
    stop_after: Option<usize>,
) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        handle(stream, &routes, &state);
        if let Some(n) = stop_after
            && state.log.lock().unwrap().downloads.len() >= n
        {
            break;
        }
    }
    // Dropping the listener here refuses every later connection.
}

fn handle(mut stream: TcpStream, routes: &BTreeMap<String, Route>, state: &Arc<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    // An absolute-form target (`http://host/path`) is reduced to its path.
    let path = match target.strip_prefix("http://") {
        Some(rest) => rest
            .find('/')
            .map_or("/".to_string(), |i| rest[i..].to_string()),
        None => target,
    };
    state.log.lock().unwrap().requests.push(path.clone());
    let route = routes
        .get(&path)
        .or_else(|| routes.get(path.split('?').next().unwrap_or("")));
    if let Some(how) = route.and_then(|r| r.behaviour) {
        let state = Arc::clone(state);
        std::thread::spawn(move || misbehave(stream, how, &state));
        return;
    }
    let (status, body, download) = match (method.as_str(), route) {
        ("GET" | "HEAD", Some(r)) => (r.status, r.body.as_slice(), r.download.clone()),
        ("GET" | "HEAD", None) => (404, &b"not found\n"[..], None),
        _ => (405, &b"method not allowed\n"[..], None),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(body);
    }
    if stream
        .write_all(&response)
        .and_then(|()| stream.flush())
        .is_err()
    {
        return;
    }
    if let Some(d) = download {
        state.log.lock().unwrap().downloads.push(d);
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read everything before the socket closes.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.read(&mut buf);
}

/// Serves a hostile route until the client hangs up or the server stops.
fn misbehave(mut stream: TcpStream, how: Hostile, state: &State) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let stopped = || state.stop.load(Ordering::SeqCst);
    let head = |length: Option<u64>| {
        let length = length
            .map(|n| format!("Content-Length: {n}\r\n"))
            .unwrap_or_default();
        format!(
            "HTTP/1.1 200 OK\r\n{length}Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
    };
    match how {
        Hostile::Silent => {
            // Hold the connection open, answering nothing, until the client
            // gives up (a read of 0) or the test ends.
            let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
            let mut buf = [0u8; 512];
            while !stopped() {
                match stream.read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => return,
                }
            }
        }
        Hostile::Trickle { bytes, every } => {
            if stream.write_all(&head(Some(bytes))).is_err() {
                return;
            }
            for _ in 0..bytes {
                if stopped()
                    || stream
                        .write_all(b"x")
                        .and_then(|()| stream.flush())
                        .is_err()
                {
                    return;
                }
                std::thread::sleep(every);
            }
        }
        Hostile::Endless => {
            if stream.write_all(&head(None)).is_err() {
                return;
            }
            let zeros = vec![0u8; 64 << 10];
            while !stopped() && stream.write_all(&zeros).is_ok() {}
        }
        Hostile::Declares { bytes } => {
            let _ = stream.write_all(&head(Some(bytes)));
            let _ = stream.write_all(&[0u8; 1024]);
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
}
