//! The capability table: one row a package, one column a capability
//! family, so what each crate can do reads at a glance. It fits the width
//! it is given (a terminal's, or 100 columns when the output is not a
//! terminal): short column names, build-script capabilities in the same
//! marks as the columns, long names wrapped. Without a width (`--wide`) it
//! spells everything out on one line a package.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width,
};

use super::super::text::plain;
use super::{HumanOptions, PackageResult, ScanResults};
use crate::model::Capability;

/// A capability family's column: its short heading, and the mark a cell
/// shows for each sub-capability.
struct Column {
    family: Capability,
    short: &'static str,
    marks: &'static [(Capability, &'static str)],
}

const COLUMNS: &[Column] = &[
    Column {
        family: Capability::Fs,
        short: "fs",
        marks: &[(Capability::FsRead, "r"), (Capability::FsWrite, "w")],
    },
    Column {
        family: Capability::Net,
        short: "net",
        marks: &[(Capability::NetConnect, "c"), (Capability::NetListen, "l")],
    },
    Column {
        family: Capability::Process,
        short: "proc",
        marks: &[(Capability::ProcessSpawn, "x")],
    },
    Column {
        family: Capability::Env,
        short: "env",
        marks: &[(Capability::EnvRead, "r"), (Capability::EnvWrite, "w")],
    },
    Column {
        family: Capability::Unsafe,
        short: "unsafe",
        marks: &[(Capability::Unsafe, "x")],
    },
    Column {
        family: Capability::Ffi,
        short: "ffi",
        marks: &[(Capability::Ffi, "x")],
    },
    Column {
        family: Capability::Build,
        short: "build",
        marks: &[(Capability::Build, "x")],
    },
    Column {
        family: Capability::ProcMacro,
        short: "macro",
        marks: &[(Capability::ProcMacro, "x")],
    },
    Column {
        family: Capability::Unanalyzed,
        short: "!",
        marks: &[(Capability::Unanalyzed, "!")],
    },
];

/// How wide the package, version and build-script columns are kept before
/// long text in them wraps: together 49 of 100 columns, the marks, the
/// count, the borders and the blanks between columns taking the rest.
const MAX_NAME_WIDTH: u16 = 22;
const MAX_VERSION_WIDTH: u16 = 10;
const MAX_BUILD_WIDTH: u16 = 17;

/// The line under the table that reads its marks.
pub fn legend(wide: bool) -> &'static str {
    if wide {
        "marks: r read, w write, c connect, l listen, x present, ! unanalyzed"
    } else {
        "columns: proc process, macro proc-macro, ! unanalyzed\nmarks: r read, w write, c connect, l listen, x present"
    }
}

pub fn color_of(family: Capability) -> Color {
    match family {
        Capability::Net | Capability::Process | Capability::Unanalyzed => Color::Red,
        Capability::Fs | Capability::Env => Color::Yellow,
        Capability::Unsafe | Capability::Ffi => Color::Magenta,
        _ => Color::Blue,
    }
}

/// The marks `capabilities` holds in one column (`rw`, `c`, …).
fn marks(column: &Column, capabilities: &[Capability]) -> String {
    column
        .marks
        .iter()
        .filter(|(sub, _)| capabilities.contains(sub))
        .map(|(_, mark)| *mark)
        .collect()
}

/// The table as it will be printed: with a blank on each side of every
/// column when that fits the width, else packed (one blank between
/// columns).
pub fn render(results: &ScanResults<'_>, options: HumanOptions) -> String {
    let Some(width) = options.width else {
        return table(results, options, false).to_string();
    };
    // Roomy and unbounded: kept when nothing has to wrap to fit.
    let mut roomy = table(results, options, false);
    roomy.set_content_arrangement(ContentArrangement::Disabled);
    let roomy = roomy.to_string();
    if roomy
        .lines()
        .all(|l| l.chars().count() <= usize::from(width))
    {
        roomy
    } else {
        table(results, options, true).to_string()
    }
}

fn table(results: &ScanResults<'_>, options: HumanOptions, packed: bool) -> Table {
    let wide = options.width.is_none();
    let mut table = Table::new();
    table.load_style(UTF8_BORDERS_ONLY);
    match options.width {
        Some(width) => {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let mut header = vec![Cell::new("package"), Cell::new("version")];
    header.extend(COLUMNS.iter().map(|c| {
        let name = if wide { c.family.name() } else { c.short };
        Cell::new(name).set_alignment(CellAlignment::Center)
    }));
    header.push(Cell::new(if wide { "build script" } else { "build.rs" }));
    header.push(Cell::new(if wide { "findings" } else { "#" }).set_alignment(CellAlignment::Right));
    table.set_header(header.into_iter().map(|c| c.add_attribute(Attribute::Bold)));
    for result in &results.packages {
        table.add_row(row(result, wide));
    }
    if !wide {
        // Packed, the blank line between columns is all that separates
        // them: no padding but at the borders.
        let last = COLUMNS.len() + 3;
        for index in (0..=last).filter(|_| packed) {
            if let Some(column) = table.column_mut(index) {
                column.set_padding((u16::from(index == 0), u16::from(index == last)));
            }
        }
        // The mark columns never need more than their heading; what room
        // there is goes to the text.
        for index in 2..2 + COLUMNS.len() {
            if let Some(column) = table.column_mut(index) {
                column.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        // Text wrapped mid-word reads badly: the package, version and
        // build-script columns keep room for their longest text, up to a
        // point, and share what is left.
        let longest = |column: usize| {
            table
                .column_max_content_widths()
                .get(column)
                .copied()
                .unwrap_or(0)
        };
        let build_column = 2 + COLUMNS.len();
        let bounds = [
            (0, longest(0).min(MAX_NAME_WIDTH)),
            (1, longest(1).min(MAX_VERSION_WIDTH)),
            (build_column, longest(build_column).min(MAX_BUILD_WIDTH)),
        ];
        for (index, width) in bounds {
            if let Some(column) = table.column_mut(index) {
                column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width)));
            }
        }
        let count = 2 + COLUMNS.len() + 1;
        if let Some(column) = table.column_mut(count) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
}

fn row(result: &PackageResult<'_>, wide: bool) -> Vec<Cell> {
    let caps = result.scan.code.capabilities();
    let mut cells = vec![
        Cell::new(plain(&result.package.name)),
        Cell::new(plain(&result.package.version)),
    ];
    for column in COLUMNS {
        let text = marks(column, &caps);
        let cell = Cell::new(&text).set_alignment(CellAlignment::Center);
        cells.push(if text.is_empty() {
            cell
        } else {
            cell.fg(color_of(column.family))
        });
    }
    let build = result.scan.build_script.capabilities();
    let build = if wide {
        build.iter().map(|c| c.name()).collect::<Vec<_>>().join(" ")
    } else {
        // The columns' short names and marks: `env:r proc`.
        COLUMNS
            .iter()
            .filter_map(|column| {
                let marks = marks(column, &build);
                match marks.as_str() {
                    "" => None,
                    "x" | "!" => Some(column.short.to_owned()),
                    _ => Some(format!("{}:{marks}", column.short)),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    cells.push(Cell::new(build));
    let count = result.scan.code.findings.len() + result.scan.build_script.findings.len();
    cells.push(Cell::new(count).set_alignment(CellAlignment::Right));
    cells
}
