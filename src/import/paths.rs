//! Completing the path of a bank CSV as it is typed (the dashboard's import prompt): the entries of the typed
//! directory that start with the typed name — directories (with a `/`) and CSV-like files first, hidden entries only
//! when a `.` is typed — each as the whole text the prompt would then hold.

use std::path::Path;

/// At most this many completions are listed.
const MAX: usize = 200;

/// What `typed` could complete to, best first.
pub fn complete_path(typed: &str) -> Vec<String> {
    let (dir_text, name) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let dir = if dir_text.is_empty() {
        std::path::PathBuf::from(".")
    } else {
        crate::config::expand_tilde(dir_text)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u8, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            if !file.starts_with(name) || (file.starts_with('.') && !name.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().ok()?.is_dir() || e.path().is_dir();
            let rank = if is_dir {
                0
            } else if is_tabular(&e.path()) {
                1
            } else {
                2
            };
            let slash = if is_dir { "/" } else { "" };
            Some((rank, format!("{dir_text}{file}{slash}")))
        })
        .collect();
    found.sort();
    found.into_iter().take(MAX).map(|(_, p)| p).collect()
}

fn is_tabular(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "csv" | "tsv" | "ssv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_csv_first_hidden_only_when_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        for f in ["bank.csv", "bank.csv.rules", ".hidden.csv", "notes.txt"] {
            std::fs::write(dir.path().join(f), "").expect("write");
        }
        std::fs::create_dir(dir.path().join("bankfiles")).expect("mkdir");
        let got = complete_path(&format!("{root}/ba"));
        assert_eq!(
            got,
            vec![
                format!("{root}/bankfiles/"),
                format!("{root}/bank.csv"),
                format!("{root}/bank.csv.rules"),
            ]
        );
        assert_eq!(
            complete_path(&format!("{root}/.h")),
            vec![format!("{root}/.hidden.csv")]
        );
        assert!(complete_path(&format!("{root}/nothing-here/x")).is_empty());
    }
}
