//! The progress display on stderr: resolving (or fetching N/M for
//! `vet-bom`), then scanning N/M with the crate being scanned. Only on a terminal and without `-q`, so logs and
//! pipes never see it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress { bar }
    }

    pub fn resolving(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("resolving the build graph (cargo metadata)");
        }
    }

    pub fn fetching(&self, total: usize) {
        self.counting("fetching", total);
    }

    pub fn scanning(&self, total: usize) {
        self.counting("scanning", total);
    }

    fn counting(&self, stage: &str, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(0);
            bar.set_message("");
            if let Ok(style) = ProgressStyle::with_template(&format!(
                "{{spinner}} {stage} {{pos}}/{{len}} {{wide_bar}} {{msg}}"
            )) {
                bar.set_style(style);
            }
        }
    }

    /// One more crate done in the current counting stage.
    pub fn scanned(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(name.to_owned());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
