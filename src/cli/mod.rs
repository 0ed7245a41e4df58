//! The command line: clap types stop here. Each subcommand is a module
//! owning its arguments and one `run` function; this module holds the
//! options every command shares and maps errors to messages.

mod allow;
mod bom;
mod cache;
mod check;
mod diff;
mod explain;
mod init;
mod mcp;
mod options;
mod progress;
mod scan;
mod vet_bom;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::resolve::BuildSelection;

/// Least privilege for every dependency: what each crate in the build can
/// do (file system, network, processes, environment, unsafe, foreign code,
/// build scripts, proc macros), found without building anything.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-capgate",
    bin_name = "cargo capgate",
    version,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Cli {
    /// The command as it is written (`scan` when none is).
    pub fn command_name(&self) -> &'static str {
        match &self.command {
            None | Some(Command::Scan(_)) => "scan",
            Some(Command::Check(_)) => "check",
            Some(Command::Init(_)) => "init",
            Some(Command::Allow(_)) => "allow",
            Some(Command::Bom(_)) => "bom",
            Some(Command::Diff(_)) => "diff",
            Some(Command::VetBom(_)) => "vet-bom",
            Some(Command::Explain(_)) => "explain",
            Some(Command::Mcp(_)) => "mcp",
            Some(Command::Cache(_)) => "cache",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every package of the build and its capabilities, with evidence (the
    /// default command).
    Scan(scan::ScanArgs),
    /// Packages whose capabilities exceed the policy (exit 1 if any).
    Check(check::CheckArgs),
    /// Write a policy granting today's capabilities, with evidence.
    Init(init::InitArgs),
    /// Grant capabilities to a package in the policy, keeping its comments.
    Allow(allow::AllowArgs),
    /// A CycloneDX bill of materials with capabilities and advisories.
    Bom(bom::BomArgs),
    /// What changed since a revision: packages, capabilities, policy, and
    /// new violations (exit 1 if any).
    Diff(diff::DiffArgs),
    /// Fetch, verify and scan every crate of a CycloneDX bill of materials,
    /// then check it against the policy, before anything is built.
    VetBom(vet_bom::VetBomArgs),
    /// Why a package has a capability: every place behind it, the packages
    /// the reach went through, and whether the policy grants it.
    Explain(explain::ExplainArgs),
    /// A Model Context Protocol server on stdio, for agents: vet a bill of
    /// materials, check a workspace, explain a capability, propose a
    /// policy.
    Mcp(mcp::McpArgs),
    /// The scan cache: `info` (size, entries) or `clean`.
    Cache(cache::CacheArgs),
}

/// Options shared by every command.
#[derive(Clone, Debug, Args)]
pub struct CommonArgs {
    /// Path to Cargo.toml of the project to analyse.
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Do not access the network (passed to `cargo metadata`; `vet-bom`
    /// takes crates from cargo's caches only).
    #[arg(long, global = true)]
    pub offline: bool,

    /// Require Cargo.lock to be up to date (passed to `cargo metadata`).
    #[arg(long, global = true)]
    pub locked: bool,

    /// Features to enable, comma or space separated (`pkg/feature` for one
    /// workspace member).
    #[arg(long, short = 'F', global = true, value_name = "FEATURES")]
    pub features: Vec<String>,

    /// Enable every feature of the workspace members.
    #[arg(long, global = true)]
    pub all_features: bool,

    /// Do not enable the default features of the workspace members.
    #[arg(long, global = true)]
    pub no_default_features: bool,

    /// Resolve for this target triple instead of the host.
    #[arg(long, global = true, value_name = "TRIPLE")]
    pub target: Option<String>,

    /// Include dev-dependencies of the workspace members.
    #[arg(long, global = true)]
    pub dev: bool,

    /// Keep code for every platform (`#[cfg(windows)]` on Linux too), for a
    /// policy meant for all of them.
    #[arg(long, global = true)]
    pub all_targets_cfg: bool,

    /// The policy file (default: capgate.toml beside the workspace root, else
    /// `[workspace.metadata.capgate]` in its Cargo.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub policy: Option<PathBuf>,

    /// The RustSec advisory database (default: the copy cargo-audit keeps,
    /// $CARGO_HOME/advisory-db).
    #[arg(long, global = true, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,

    /// Clone or update the advisory database before using it (needs git and
    /// the network).
    #[arg(long, global = true)]
    pub fetch_advisories: bool,

    /// Extra rule files (same format as `rules/*.toml`).
    #[arg(long = "rules", global = true, value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Scan every package afresh, without reading or writing the scan cache.
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Show evidence for every capability.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print nothing on stderr but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// For `diff`: a pull-request comment.
    Markdown,
    /// For `check` and `diff`: SARIF 2.1.0 for code scanning.
    Sarif,
    /// For `check`: GitHub workflow annotations.
    Github,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl CommonArgs {
    pub fn selection(&self) -> BuildSelection {
        BuildSelection {
            manifest_path: self.manifest_path.clone(),
            features: self.features.clone(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
            target: self.target.clone(),
            dev: self.dev,
            all_targets_cfg: self.all_targets_cfg,
            offline: self.offline,
            locked: self.locked,
            config_dir: None,
        }
    }

    /// The scan cache, unless `--no-cache` (or no cache directory exists
    /// for this platform).
    pub fn cache(&self) -> Option<crate::cache::ScanCache> {
        if self.no_cache {
            return None;
        }
        crate::cache::ScanCache::default_dir().map(crate::cache::ScanCache::at)
    }

    /// Resolves and scans the selected build, with progress on a terminal.
    pub fn analyze(
        &self,
        rules: &crate::rules::RuleSet,
    ) -> anyhow::Result<crate::pipeline::Analysis> {
        let progress = progress::Progress::new(self.quiet);
        progress.resolving();
        let started = std::time::Instant::now();
        let graph = crate::resolve::resolve(&self.selection());
        let resolve_time = started.elapsed();
        // Two policies are an error for every command, even one that reads
        // none: the user must not be left editing the one not applied.
        let graph = match graph.map_err(anyhow::Error::from).and_then(|graph| {
            crate::policy::locate(self.policy.as_deref(), &graph.workspace_root)?;
            Ok(graph)
        }) {
            Ok(graph) => graph,
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        };
        let mut analysis = self.scan_with(graph, None, rules, self.cache(), progress)?;
        analysis.timings.resolve = resolve_time;
        self.summarize(&analysis);
        Ok(analysis)
    }

    /// Scans an already resolved graph, with progress on a terminal.
    pub fn scan_resolved(
        &self,
        graph: crate::model::BuildGraph,
        rules: &crate::rules::RuleSet,
    ) -> anyhow::Result<crate::pipeline::Analysis> {
        self.scan_resolved_with(graph, None, rules, self.cache())
    }

    /// [`Self::scan_resolved`] with a cache the caller has already used
    /// (`vet-bom` keeps its downloads there), so that its problems are
    /// warned about once, and sources it puts on disk only when needed.
    pub fn scan_resolved_with(
        &self,
        graph: crate::model::BuildGraph,
        deferred: Option<&crate::pipeline::Deferred<'_>>,
        rules: &crate::rules::RuleSet,
        cache: Option<crate::cache::ScanCache>,
    ) -> anyhow::Result<crate::pipeline::Analysis> {
        let progress = progress::Progress::new(self.quiet);
        let analysis = self.scan_with(graph, deferred, rules, cache, progress)?;
        self.summarize(&analysis);
        Ok(analysis)
    }

    fn scan_with(
        &self,
        graph: crate::model::BuildGraph,
        deferred: Option<&crate::pipeline::Deferred<'_>>,
        rules: &crate::rules::RuleSet,
        cache: Option<crate::cache::ScanCache>,
        progress: progress::Progress,
    ) -> anyhow::Result<crate::pipeline::Analysis> {
        progress.scanning(graph.packages.len());
        let on_scanned = |p: &crate::model::Package| progress.scanned(&p.name);
        let result = crate::pipeline::scan_graph_deferred(
            graph,
            deferred,
            rules,
            cache.as_ref(),
            &on_scanned,
        );
        progress.finish();
        let analysis = result?;
        if !self.quiet {
            for warning in &analysis.cache_warnings {
                eprintln!("warning: {warning}");
            }
        }
        write_scanned_files(&analysis)?;
        Ok(analysis)
    }

    /// The one-line summary on stderr (on a terminal, or with `-v`).
    fn summarize(&self, analysis: &crate::pipeline::Analysis) {
        if !self.notes() {
            return;
        }
        let files: usize = analysis.scans.iter().map(|s| s.stats.files).sum();
        let bytes: u64 = analysis.scans.iter().map(|s| s.stats.bytes).sum();
        let scan_secs = analysis.timings.scan.as_secs_f64();
        eprintln!(
            "scanned {} packages ({} from the cache), {files} files ({:.1} MB) in {:.2} s ({:.0} files/s); cargo metadata took {:.2} s",
            analysis.graph.packages.len(),
            analysis.cache_hits,
            bytes as f64 / 1e6,
            scan_secs,
            files as f64 / scan_secs.max(1e-9),
            analysis.timings.resolve.as_secs_f64(),
        );
        if self.verbose {
            let mut slowest: Vec<(std::time::Duration, usize)> =
                analysis.durations.iter().copied().zip(0..).collect();
            slowest.sort_by(|a, b| b.cmp(a));
            let named: Vec<String> = slowest
                .iter()
                .take(SLOWEST_SHOWN)
                .map(|&(d, i)| {
                    let p = &analysis.graph.packages[i];
                    format!("{} {} {:.2} s", p.name, p.version, d.as_secs_f64())
                })
                .collect();
            if !named.is_empty() {
                eprintln!("slowest package scans: {}", named.join(", "));
            }
            for (package, scan) in analysis.graph.packages.iter().zip(&analysis.scans) {
                for file in &scan.stats.token_fallback_files {
                    eprintln!(
                        "note: {} {}: syn could not parse {file}; read it as tokens",
                        package.name, package.version
                    );
                }
            }
        }
    }

    /// Whether stdout gets colour.
    pub fn stdout_color(&self) -> bool {
        color_for(self.color, std::io::stdout().is_terminal())
    }

    /// Whether stderr gets colour.
    pub fn stderr_color(&self) -> bool {
        color_for(self.color, std::io::stderr().is_terminal())
    }

    /// Whether to print notes (timing, fallbacks) on stderr.
    pub fn notes(&self) -> bool {
        !self.quiet && (self.verbose || std::io::stderr().is_terminal())
    }
}

/// Whether a stream gets colour: `--color always|never` as asked; `auto`
/// as the conventions say (`NO_COLOR` set turns it off, `CLICOLOR_FORCE`
/// on even when piped, `CLICOLOR=0` off), else on a terminal that can show
/// it.
fn color_for(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if anstyle_query::no_color() {
                false
            } else if anstyle_query::clicolor_force() {
                true
            } else if anstyle_query::clicolor() == Some(false) {
                false
            } else {
                terminal
                    && (anstyle_query::term_supports_color()
                        || anstyle_query::clicolor() == Some(true))
            }
        }
    }
}

/// How many of the slowest package scans `-v` names.
const SLOWEST_SHOWN: usize = 10;

/// How a command ended when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Something exceeded what the policy allows.
    Violations,
    /// The report was written, but something in it could not be vetted
    /// (`vet-bom`: a checksum mismatch, a crate that could not be fetched).
    Unvetted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Violations => 1,
            Outcome::Unvetted => 2,
        }
    }
}

/// Parses the command line, accepting cargo's way of calling subcommands
/// (`cargo-capgate capgate ARGS`) as well as direct calls.
pub fn parse() -> Cli {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "capgate") {
        args.remove(1);
    }
    Cli::parse_from(args)
}

/// Runs the command the user asked for.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    cli.common.refuse_unused(cli.command_name())?;
    match &cli.command {
        Some(Command::Scan(args)) => scan::run(&cli.common, args),
        Some(Command::Check(args)) => check::run(&cli.common, args),
        Some(Command::Init(args)) => init::run(&cli.common, args),
        Some(Command::Allow(args)) => allow::run(&cli.common, args),
        Some(Command::Bom(args)) => bom::run(&cli.common, args),
        Some(Command::Diff(args)) => diff::run(&cli.common, args),
        Some(Command::VetBom(args)) => vet_bom::run(&cli.common, args),
        Some(Command::Explain(args)) => explain::run(&cli.common, args),
        Some(Command::Mcp(args)) => mcp::run(&cli.common, args),
        Some(Command::Cache(args)) => cache::run(&cli.common, args),
        None => scan::run(&cli.common, &scan::ScanArgs::default()),
    }
}

/// Loads the policy for a resolved workspace, printing its diagnostics
/// (errors and warnings) on stderr. An invalid policy is an error.
pub(crate) fn load_policy(
    common: &CommonArgs,
    workspace_root: &std::path::Path,
) -> anyhow::Result<crate::policy::Policy> {
    use crate::policy::{PolicyError, PolicySource};
    match crate::policy::load(common.policy.as_deref(), workspace_root) {
        Ok((policy, warnings)) => {
            if !common.quiet {
                eprint!(
                    "{}",
                    crate::report::diagnostics::render_diagnostics(
                        &warnings,
                        common.stderr_color()
                    )
                );
                if policy.source == PolicySource::None {
                    eprintln!(
                        "note: no policy found ({} beside the workspace root, or [workspace.metadata.capgate] in Cargo.toml): nothing is granted; `cargo capgate init` writes one",
                        crate::policy::POLICY_FILE
                    );
                }
            }
            Ok(policy)
        }
        Err(PolicyError::Invalid { path, diagnostics }) => {
            eprint!(
                "{}",
                crate::report::diagnostics::render_diagnostics(&diagnostics, common.stderr_color())
            );
            anyhow::bail!(
                "the policy {} is invalid ({} error{})",
                path.display(),
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The advisory database, or `None` when none is available. A database
/// the user named must exist; a missing default one is said once on stderr.
pub(crate) fn open_advisories(
    common: &CommonArgs,
) -> anyhow::Result<Option<crate::advisories::AdvisoryDatabase>> {
    use crate::advisories::{AdvisoryDatabase, default_path};
    if common.fetch_advisories {
        let path = common
            .advisory_db
            .clone()
            .or_else(default_path)
            .ok_or_else(|| {
                anyhow::anyhow!("no place for the advisory database: pass --advisory-db PATH")
            })?;
        crate::advisories::fetch(&path)?;
        return Ok(Some(AdvisoryDatabase::open(&path)?));
    }
    let path = match &common.advisory_db {
        Some(path) => path.clone(),
        None => match default_path() {
            Some(path) if path.is_dir() => path,
            other => {
                if !common.quiet {
                    let where_ = other
                        .map(|p| format!(" at {}", p.display()))
                        .unwrap_or_default();
                    eprintln!(
                        "note: advisories were not checked: no advisory database{where_} (pass --advisory-db PATH)"
                    );
                }
                return Ok(None);
            }
        },
    };
    Ok(Some(AdvisoryDatabase::open(&path)?))
}

/// The advisories of every package of `graph`, when a database is available.
pub(crate) fn load_advisories(
    common: &CommonArgs,
    graph: &crate::model::BuildGraph,
) -> anyhow::Result<Option<Vec<Vec<crate::advisories::AdvisoryMatch>>>> {
    Ok(open_advisories(common)?.map(|db| db.matches(graph)))
}

/// Prints an error with its causes: to stderr always, and as JSON on stdout
/// when the user asked for JSON, so a script never reads a partial report.
pub fn report_error(cli: &Cli, error: &anyhow::Error) {
    let causes: Vec<String> = error.chain().skip(1).map(|c| c.to_string()).collect();
    let mut message = format!("error: {error}");
    for cause in &causes {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{message}");
    if cli.common.format == Format::Json {
        let json = serde_json::json!({
            "schema_version": crate::report::json::SCHEMA_VERSION,
            "error": { "message": error.to_string(), "causes": causes },
        });
        println!("{json}");
    }
}

/// With `CAPGATE_SCANNED_FILES=PATH`, writes every source file this run
/// parsed to PATH, one per line, so `benches/` can parse exactly those files
/// for the syn-parse floor. Packages taken from the cache read no files.
fn write_scanned_files(analysis: &crate::pipeline::Analysis) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let Some(path) = std::env::var_os("CAPGATE_SCANNED_FILES") else {
        return Ok(());
    };
    let mut list = String::new();
    for file in analysis.scans.iter().flat_map(|scan| &scan.stats.paths) {
        list.push_str(&file.to_string_lossy());
        list.push('\n');
    }
    std::fs::write(&path, list).with_context(|| {
        format!(
            "could not write CAPGATE_SCANNED_FILES to {}",
            path.to_string_lossy()
        )
    })
}
