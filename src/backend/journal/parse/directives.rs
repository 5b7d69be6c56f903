//! Pass 1 of reading: each file's lines once, in order. Directives that change how later text is read are followed
//! here (`include`, `decimal-mark`, `commodity`, `alias`, `Y`/`year`, `apply account`, `D`, comment blocks) and the
//! text is cut into entry blocks — a line starting with a date, `~` or `=`, and the indented lines under it — each
//! tagged with the directive state in force. Lines end at LF, CRLF or a lone CR (`syntax::lines`), as hledger reads
//! them. `include` globs skip dot-files, as hledger's do, so a writer's temp file is never read as part of a journal.

use super::entry::Block;
use super::{Alias, Scan};
use crate::backend::journal::syntax::{self, Line};
use crate::backend::ledger::{EntryKind, SourceFile};
use regex::{Regex, RegexBuilder};
use std::path::{Path, PathBuf};

/// Where the scan of one file stands.
struct FileScan {
    file: u32,
    open: Option<Block>,
    in_comment_block: bool,
    /// The directive whose indented sub-lines may follow (`commodity` reads its `format` line).
    directive: Option<String>,
}

impl Scan {
    /// Pass 1 over one file: cut blocks, follow directives.
    pub(super) fn scan_file(&mut self, file: u32) {
        let text = std::mem::take(&mut self.files[file as usize].text);
        let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut st = FileScan {
            file,
            open: None,
            in_comment_block: false,
            directive: None,
        };
        for line in syntax::lines(&text, start, text.len(), 1) {
            self.scan_line(&mut st, &line);
        }
        if let Some(b) = st.open.take() {
            self.blocks.push(b);
        }
        self.files[file as usize].text = text;
    }

    fn scan_line(&mut self, st: &mut FileScan, line: &Line<'_>) {
        if st.in_comment_block {
            if line.text.trim_end() == "end comment" {
                st.in_comment_block = false;
            }
            return;
        }
        if syntax::is_space_at(line.text, 0) {
            self.indented_line(st, line);
            return;
        }
        if let Some(b) = st.open.take() {
            self.blocks.push(b);
        }
        st.directive = None;
        let state = (self.states.len() - 1) as u32;
        let kind = match line.text.as_bytes().first() {
            None | Some(b';' | b'#' | b'*' | b'%' | b'|') => return,
            Some(b'0'..=b'9') => EntryKind::Regular,
            Some(b'~') => EntryKind::Periodic,
            Some(b'=') => EntryKind::Auto,
            Some(_) => return self.directive_line(st, line),
        };
        st.open = Some(Block {
            file: st.file,
            start: line.start,
            end: line.next(),
            line: line.number,
            state,
            kind,
        });
    }

    fn indented_line(&mut self, st: &mut FileScan, line: &Line<'_>) {
        if syntax::is_blank(line.text) {
            if let Some(b) = st.open.take() {
                self.blocks.push(b);
            }
        } else if let Some(b) = st.open.as_mut() {
            b.end = line.next();
        } else if st.directive.as_deref() == Some("commodity") {
            if let Some(sample) = line.text.trim().strip_prefix("format") {
                let sample = sample.trim().to_string();
                self.commodity_directive(&sample);
            }
        } else {
            let t = line.text.trim_start_matches(syntax::is_space);
            if !(t.starts_with(';') || t.starts_with('#')) {
                let col = super::entry::column_of(line.text, line.text.len() - t.len());
                self.diag(
                    st.file,
                    line.number,
                    col,
                    "indented line outside a transaction (is a blank line above it?)",
                );
            }
        }
    }

    /// A line starting with a word: a directive.
    fn directive_line(&mut self, st: &mut FileScan, line: &Line<'_>) {
        let (file, line_no, text) = (st.file, line.number, line.text);
        let mut word = text.split_whitespace().next().unwrap_or("");
        // `Y2022`: hledger accepts the year directive without a space.
        if word.len() > 1 && word.starts_with('Y') && word[1..].bytes().all(|c| c.is_ascii_digit())
        {
            word = "Y";
        }
        let rest = strip_comment(text[word.len()..].trim());
        match word {
            "comment" => st.in_comment_block = true,
            "include" => self.include(file, line_no, rest, text),
            "decimal-mark" => match rest.as_bytes().first() {
                Some(&m @ (b'.' | b',')) => self.change_state(|s| s.decimal_mark = Some(m)),
                _ => self.diag(file, line_no, word.len() + 2, "decimal-mark must be . or ,"),
            },
            "commodity" => {
                st.directive = Some("commodity".into());
                self.commodity_directive(rest);
            }
            "alias" => match parse_alias(rest) {
                Ok(a) => self.change_state(|s| s.aliases.push(a)),
                Err(m) => self.diag(file, line_no, 7, m),
            },
            "end" if rest == "aliases" => self.change_state(|s| s.aliases.clear()),
            "end" if rest == "apply account" || rest == "apply" => self.change_state(|s| {
                s.parents.pop();
            }),
            "apply" if rest.starts_with("account") => {
                let parent = rest["account".len()..].trim().to_string();
                self.change_state(|s| s.parents.push(parent));
            }
            "Y" | "year" => match rest.parse::<i32>() {
                Ok(y) => self.change_state(|s| s.year = Some(y)),
                Err(_) => self.diag(
                    file,
                    line_no,
                    word.len() + 2,
                    format!("{word}: {rest:?} is not a year"),
                ),
            },
            "apply" if rest.starts_with("year") => match rest["year".len()..].trim().parse::<i32>()
            {
                Ok(y) => self.change_state(|s| s.year = Some(y)),
                Err(_) => self.diag(file, line_no, 12, "apply year: not a year"),
            },
            "D" => {
                let sample = rest.trim().to_string();
                let symbol: String = sample
                    .trim_matches(|c: char| c.is_ascii_digit() || ".,- ".contains(c))
                    .trim_matches('"')
                    .to_string();
                self.commodity_directive(&sample);
                self.change_state(|s| s.default_commodity = Some(symbol));
            }
            "account" | "payee" | "tag" | "P" | "C" | "N" | "A" | "end" | "i" | "o" | "I" | "O"
            | "h" | "b" | "assert" | "check" | "define" | "bucket" | "value" | "def" | "expr"
            | "python" | "eval" | "--" => st.directive = Some(word.to_string()),
            _ => self.diag(file, line_no, 1, format!("unknown directive {word:?}")),
        }
    }

    /// Reads a file (metadata and bytes from one open handle, so they describe the same content) and scans it.
    pub(super) fn read_file(&mut self, path: &Path) -> std::io::Result<()> {
        let mut f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        std::io::Read::read_to_end(&mut f, &mut bytes)?;
        self.add_file(path, bytes, meta.modified().ok())
    }

    pub(super) fn add_file(
        &mut self,
        path: &Path,
        bytes: Vec<u8>,
        mtime: Option<std::time::SystemTime>,
    ) -> std::io::Result<()> {
        let text = String::from_utf8(bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: not UTF-8 text (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        self.add_text(path, text, mtime);
        Ok(())
    }

    /// Adds the text of the file at `path` and scans it (pass 1).
    pub(super) fn add_text(
        &mut self,
        path: &Path,
        text: String,
        mtime: Option<std::time::SystemTime>,
    ) {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let hash = crate::backend::ledger::content_hash(text.as_bytes());
        let file = self.files.len() as u32;
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            len: text.len() as u64,
            mtime,
            hash,
            read_only: None,
            text,
        });
        self.visiting.insert(canonical.clone());
        self.scan_file(file);
        self.visiting.remove(&canonical);
    }

    fn commodity_directive(&mut self, rest: &str) {
        // `commodity $1,000.00`, `commodity 1.000,00 EUR`, `commodity EUR` (no sample: nothing to learn).
        let sample = strip_comment(rest).trim();
        let number: String = sample
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == ' ')
            .collect();
        let symbol: String = sample
            .replace(number.trim(), " ")
            .trim()
            .trim_matches('-')
            .trim()
            .trim_matches('"')
            .to_string();
        let mark = infer_mark(number.trim());
        if let Some(m) = mark {
            let n = number.trim();
            let decimals = if n.contains(m as char) {
                n.rsplit(m as char).next().map_or(0, str::len)
            } else {
                0
            };
            self.precisions.insert(symbol.clone(), decimals as u32);
            self.change_state(|s| {
                s.commodity_marks.insert(symbol, m);
            });
        }
    }

    fn include(&mut self, file: u32, line_no: u32, target: &str, line: &str) {
        let column = line.find(target).map_or(9, |i| i + 1);
        if !self.follow_includes {
            return self.diag(
                file,
                line_no,
                column,
                "include: not followed when reading text from memory",
            );
        }
        let base = self.files[file as usize]
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target = target.trim();
        let expanded = expand_tilde(target);
        let full = if Path::new(&expanded).is_absolute() {
            PathBuf::from(&expanded)
        } else {
            base.join(&expanded)
        };
        let pattern = full.to_string_lossy().into_owned();
        let paths: Vec<PathBuf> = if pattern.contains(['*', '?', '[']) {
            // Dot-files are not matched by `*`, as in hledger: a writer's `.NAME.tally-….tmp` is never included.
            let options = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            match glob::glob_with(&pattern, options) {
                Ok(g) => {
                    let mut v: Vec<PathBuf> = g.filter_map(Result::ok).collect();
                    v.sort();
                    if v.is_empty() {
                        self.diag(
                            file,
                            line_no,
                            column,
                            format!("include: no files match {target}"),
                        );
                    }
                    v
                }
                Err(e) => {
                    self.diag(
                        file,
                        line_no,
                        column,
                        format!("include: bad glob {target}: {e}"),
                    );
                    Vec::new()
                }
            }
        } else {
            vec![full]
        };
        for p in paths {
            let canonical = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if self.visiting.contains(&canonical) {
                self.diag(
                    file,
                    line_no,
                    column,
                    format!("include cycle: {} includes itself", p.display()),
                );
                continue;
            }
            if let Err(e) = self.read_file(&p) {
                let message = match e.kind() {
                    std::io::ErrorKind::InvalidData => format!("include: {e}"),
                    _ => format!("include: cannot read {}: {e}", p.display()),
                };
                self.diag(file, line_no, column, message);
            }
        }
    }
}

fn expand_tilde(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest).to_string_lossy().into_owned();
    }
    p.to_string()
}

fn strip_comment(s: &str) -> &str {
    match s.find(';') {
        Some(i) => s[..i].trim_end(),
        None => s,
    }
}

fn infer_mark(number: &str) -> Option<u8> {
    let b = number.as_bytes();
    let dots = b.iter().filter(|c| **c == b'.').count();
    let commas = b.iter().filter(|c| **c == b',').count();
    match (dots, commas) {
        (0, 0) => None,
        (1, 0) => Some(b'.'),
        (0, 1) => Some(b','),
        (_, 0) => Some(b','),
        (0, _) => Some(b'.'),
        _ => b.iter().rev().find(|c| **c == b'.' || **c == b',').copied(),
    }
}

fn parse_alias(rest: &str) -> Result<Alias, String> {
    let (from, to) = rest
        .split_once('=')
        .ok_or_else(|| "alias needs OLD = NEW".to_string())?;
    let (from, to) = (from.trim(), to.trim().to_string());
    if let Some(re) = from.strip_prefix('/').and_then(|f| f.strip_suffix('/')) {
        let re = RegexBuilder::new(re)
            .case_insensitive(true)
            .build()
            .map_err(|e| format!("alias: bad regular expression: {e}"))?;
        // hledger writes back-references as \1; the regex crate as ${1}.
        let to = Regex::new(r"\\(\d)")
            .map(|r| r.replace_all(&to, "$${$1}").into_owned())
            .unwrap_or(to);
        Ok(Alias::Regex { re, to })
    } else {
        Ok(Alias::Plain {
            from: from.to_string(),
            to,
        })
    }
}
