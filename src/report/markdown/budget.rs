//! A Markdown document that never grows past a size limit. A pull-request
//! comment holds 65,536 characters, and a dependency update can change
//! thousands of rows: sections are added in the order a reviewer needs them,
//! each row only while it fits, and what did not fit is counted so the
//! document can say how much it left out. Sizes are counted in bytes, which
//! are never fewer than characters.

/// The document being written, and what was left out of it.
pub struct Budget {
    out: String,
    limit: usize,
    /// Kept free for the note on what was left out.
    reserve: usize,
    rows_left_out: usize,
    sections_cut: Vec<&'static str>,
}

/// One section: text before its rows, the rows, and text after them (a
/// table's header and the blank line that ends it, or a `<details>` and
/// its closing tag). The opening and closing are written only with at
/// least one row, so a cut never leaves a tag open.
pub struct Section<'a> {
    /// How the note on what was cut names this section.
    pub name: &'static str,
    pub open: &'a str,
    pub rows: &'a [String],
    pub close: &'a str,
}

impl Budget {
    pub fn new(limit: usize, reserve: usize) -> Budget {
        Budget {
            out: String::new(),
            limit,
            reserve,
            rows_left_out: 0,
            sections_cut: Vec::new(),
        }
    }

    fn fits(&self, more: usize) -> bool {
        self.out.len() + more + self.reserve <= self.limit
    }

    /// Writes `text` whole, or not at all (then false).
    pub fn text(&mut self, text: &str) -> bool {
        let fits = self.fits(text.len());
        if fits {
            self.out.push_str(text);
        }
        fits
    }

    /// Writes as many of the section's rows as fit, in order; false when
    /// any was left out.
    pub fn section(&mut self, section: Section<'_>) -> bool {
        let Some(first) = section.rows.first() else {
            return true;
        };
        let frame = section.open.len() + section.close.len();
        if !self.fits(frame + first.len()) {
            self.cut(section.name, section.rows.len());
            return false;
        }
        self.out.push_str(section.open);
        let mut written = 0;
        for row in section.rows {
            if !self.fits(row.len() + section.close.len()) {
                break;
            }
            self.out.push_str(row);
            written += 1;
        }
        self.out.push_str(section.close);
        if written < section.rows.len() {
            self.cut(section.name, section.rows.len() - written);
            return false;
        }
        true
    }

    fn cut(&mut self, name: &'static str, rows: usize) {
        self.rows_left_out += rows;
        if !self.sections_cut.contains(&name) {
            self.sections_cut.push(name);
        }
    }

    /// Rows left out, and the sections they belong to.
    pub fn left_out(&self) -> (usize, &[&'static str]) {
        (self.rows_left_out, &self.sections_cut)
    }

    /// The document, with `note` (which must fit in the reserve) after it.
    pub fn finish(mut self, note: &str) -> String {
        debug_assert!(
            note.len() <= self.reserve,
            "the note on what was cut outgrew its reserve"
        );
        self.out.push_str(note);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("| row {i:04} |\n")).collect()
    }

    #[test]
    fn rows_are_written_while_they_fit_and_the_rest_counted() {
        let mut budget = Budget::new(200, 20);
        let rows = rows(50);
        let complete = budget.section(Section {
            name: "table",
            open: "### t\n\n",
            rows: &rows,
            close: "\n",
        });
        assert!(!complete);
        let (left_out, sections) = budget.left_out();
        let sections = sections.to_vec();
        let out = budget.finish("");
        assert!(out.len() <= 180, "{} bytes", out.len());
        assert!(out.starts_with("### t\n\n| row 0000 |\n"));
        assert!(out.ends_with("|\n\n"), "the section is closed: {out:?}");
        assert_eq!(left_out, 50 - out.matches("| row").count());
        assert_eq!(sections, ["table"]);
    }

    #[test]
    fn a_section_without_room_for_one_row_is_left_out_whole() {
        let mut budget = Budget::new(40, 10);
        assert!(budget.text("0123456789012345678"));
        let rows = rows(3);
        budget.section(Section {
            name: "details",
            open: "<details>\n",
            rows: &rows,
            close: "</details>\n",
        });
        assert_eq!(budget.left_out().0, 3);
        assert_eq!(budget.finish(""), "0123456789012345678");
    }

    #[test]
    fn an_empty_section_writes_nothing() {
        let mut budget = Budget::new(100, 0);
        assert!(budget.section(Section {
            name: "none",
            open: "### none\n",
            rows: &[],
            close: "\n",
        }));
        assert_eq!(budget.finish(""), "");
    }
}
