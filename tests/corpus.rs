//! Accuracy corpus: precision and recall of the scanner over labelled cases.
//!
//! Every directory `fixtures/corpus/<category>-<name>/` is a small path-only
//! workspace with a `case.toml` naming the crate under test and the
//! capability *families* a correct tool reports for it, including those it
//! reaches through the public items of its dependencies that it uses (see
//! `fixtures/README.md`). This test scans each case, compares the crate's
//! families with the label, counts true positives, false positives and false
//! negatives over (case, family) pairs, prints every mismatching case and the
//! totals (run with `--nocapture` to see them), and requires precision and
//! recall of at least 0.95. Cases are scanned in-process, through the
//! library, as `scan --offline --no-cache` would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

// A label names families (`util::FAMILIES`); `unanalyzed` is one, but a
// case should be analysable, and the test ignores it unless a label names it.
use crate::util::{self, FAMILIES};

const CATEGORIES: &[&str] = &["basic", "evasion", "decoy", "transitive"];

const MIN_CASES: usize = 80;
const MIN_PER_CATEGORY: usize = 10;
const MIN_PRECISION: f64 = 0.95;
const MIN_RECALL: f64 = 0.95;

/// Scans run at once: each one runs `cargo metadata` and a scan (the
/// scan on its own pool of threads).
const WORKERS: usize = 2;

struct Case {
    name: String,
    category: String,
    dir: PathBuf,
    description: String,
    krate: String,
    expect: BTreeSet<String>,
}

struct Outcome {
    /// The families reported for the crate, or why there are none.
    actual: Result<BTreeSet<String>, String>,
    /// The families some finding of which is proven (resolution `path` or
    /// `type`, or structural): the others were matched by name only.
    proven: BTreeSet<String>,
}

fn corpus_dir() -> PathBuf {
    util::repo_root().join("fixtures").join("corpus")
}

fn load_cases() -> Vec<Case> {
    util::subdirectories(&corpus_dir())
        .iter()
        .map(|d| load_case(d))
        .collect()
}

fn load_case(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let category = name.split('-').next().unwrap_or("").to_string();
    assert!(
        CATEGORIES.contains(&category.as_str()),
        "{name}: a case directory is named <category>-<name>, category one of {CATEGORIES:?}"
    );
    assert!(
        dir.join("Cargo.toml").is_file(),
        "{name}: a case is a workspace with a root Cargo.toml"
    );
    let path = dir.join("case.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for key in table.keys() {
        assert!(
            ["description", "crate", "expect"].contains(&key.as_str()),
            "{}: unknown key {key:?}",
            path.display()
        );
    }
    let string = |key: &str| -> String {
        table
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{}: `{key}` must be a string", path.display()))
            .to_string()
    };
    let description = string("description");
    let krate = string("crate");
    let list = table
        .get("expect")
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("{}: `expect` must be an array", path.display()));
    let mut expect = BTreeSet::new();
    for v in list {
        let fam = v
            .as_str()
            .unwrap_or_else(|| panic!("{}: `expect` holds strings", path.display()));
        assert!(
            FAMILIES.contains(&fam),
            "{}: {fam:?} is not a capability family (one of {FAMILIES:?}; label families, not sub-capabilities)",
            path.display()
        );
        assert!(
            expect.insert(fam.to_string()),
            "{}: {fam:?} listed twice",
            path.display()
        );
    }
    Case {
        name,
        category,
        dir: dir.to_path_buf(),
        description,
        krate,
        expect,
    }
}

/// `fs.read` -> `fs`; families stay as they are.
fn family(cap: &str) -> &str {
    cap.split('.').next().unwrap_or(cap)
}

/// Scans one case in-process ([`util::Scan`]: resolve and scan through the
/// library) and returns the families reported for its crate.
fn scan_case(case: &Case) -> Outcome {
    let analysis = match util::Scan::dir(&case.dir).try_analyze() {
        Ok(analysis) => analysis,
        Err(e) => {
            return Outcome {
                actual: Err(format!("the analysis failed: {}", util::error_chain(&e))),
                proven: BTreeSet::new(),
            };
        }
    };
    let report = util::report_json(&analysis.graph, &analysis.scans);
    let matching: Vec<&Value> = util::packages(&report)
        .iter()
        .filter(|p| p["name"] == case.krate.as_str())
        .filter(|p| matches!(p["source"].as_str(), Some("workspace" | "path")))
        .collect();
    let [pkg] = matching.as_slice() else {
        return Outcome {
            actual: Err(format!(
                "{} packages named {:?} in the report",
                matching.len(),
                case.krate
            )),
            proven: BTreeSet::new(),
        };
    };
    let actual = util::strings(&pkg["capabilities"])
        .iter()
        .map(|c| family(c).to_string())
        .filter(|f| f != "unanalyzed" || case.expect.contains("unanalyzed"))
        .collect();
    let proven = pkg["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["resolution"] != "by-name")
        .filter_map(|f| f["capability"].as_str())
        .map(|c| family(c).to_string())
        .collect();
    Outcome {
        actual: Ok(actual),
        proven,
    }
}

fn scan_all(cases: &[Case]) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, Outcome>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let outcome = scan_case(case);
                    results.lock().unwrap().insert(i, outcome);
                }
            });
        }
    });
    results.into_inner().unwrap().into_values().collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }

    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

fn list(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "-".to_string()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

#[test]
fn corpus_precision_and_recall() {
    let cases = load_cases();
    let outcomes = scan_all(&cases);

    let mut total = Counts::default();
    // True positives whose every finding was matched by a method's name.
    let mut tp_by_name = 0;
    let mut by_category: BTreeMap<&str, (usize, usize, Counts)> = BTreeMap::new();
    let mut rows: Vec<[String; 6]> = Vec::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let empty = BTreeSet::new();
        let (actual, error) = match &outcome.actual {
            Ok(a) => (a, None),
            Err(e) => (&empty, Some(e.clone())),
        };
        let tp = case.expect.intersection(actual).count();
        tp_by_name += case
            .expect
            .intersection(actual)
            .filter(|f| !outcome.proven.contains(*f))
            .count();
        let missing: BTreeSet<String> = case.expect.difference(actual).cloned().collect();
        let extra: BTreeSet<String> = actual.difference(&case.expect).cloned().collect();
        let counts = Counts {
            tp,
            fp: extra.len(),
            fn_: missing.len(),
        };
        total.add(counts);
        let entry = by_category.entry(case.category.as_str()).or_default();
        entry.0 += 1;
        entry.2.add(counts);
        if !missing.is_empty() || !extra.is_empty() || error.is_some() {
            entry.1 += 1;
            rows.push([
                case.name.clone(),
                list(&case.expect),
                error.map_or_else(|| list(actual), |e| format!("ERROR {e}")),
                list(&missing),
                list(&extra),
                case.description.clone(),
            ]);
        }
    }

    let mut out = String::new();
    if !rows.is_empty() {
        let header = [
            "case",
            "expected",
            "reported",
            "missing (FN)",
            "extra (FP)",
            "description",
        ];
        let widths: Vec<usize> = (0..5)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].len())
                    .chain([header[i].len()])
                    .max()
                    .unwrap()
            })
            .collect();
        let line = |cells: [&str; 6]| -> String {
            let mut s = String::new();
            for (i, w) in widths.iter().enumerate() {
                s.push_str(&format!("{:<w$}  ", cells[i]));
            }
            s.push_str(cells[5]);
            s.push('\n');
            s
        };
        out.push_str(&format!("corpus: {} mismatching cases\n", rows.len()));
        out.push_str(&line(header));
        for r in &rows {
            out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
        }
        out.push('\n');
    }
    for (cat, (n, bad, c)) in &by_category {
        out.push_str(&format!(
            "corpus {cat:<10} {n:>3} cases, {bad:>3} mismatching, TP {:>3} FP {:>3} FN {:>3}, precision {:.3}, recall {:.3}\n",
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall()
        ));
    }
    out.push_str(&format!(
        "corpus: {} cases, precision {:.3}, recall {:.3} (TP {}, FP {}, FN {})\n",
        cases.len(),
        total.precision(),
        total.recall(),
        total.tp,
        total.fp,
        total.fn_
    ));
    out.push_str(&format!(
        "corpus: true positives by resolution: {} proven (a path, a known receiver type, or structural), {tp_by_name} by method name only\n",
        total.tp - tp_by_name
    ));
    eprintln!("{out}");

    assert!(
        cases.len() >= MIN_CASES,
        "the corpus has {} cases, fewer than {MIN_CASES}",
        cases.len()
    );
    for cat in CATEGORIES {
        let n = by_category.get(cat).map_or(0, |e| e.0);
        assert!(
            n >= MIN_PER_CATEGORY,
            "category {cat} has {n} cases, fewer than {MIN_PER_CATEGORY}"
        );
    }
    assert!(
        total.precision() >= MIN_PRECISION && total.recall() >= MIN_RECALL,
        "corpus precision {:.3} / recall {:.3} below {MIN_PRECISION} / {MIN_RECALL} (mismatching cases above)",
        total.precision(),
        total.recall()
    );
}
