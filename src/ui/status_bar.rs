//! The status bar (source, match count and sum, selection count and sum, review queue size, writes in flight with
//! progress, the last error) and the footer: the latest message until the next key, otherwise the most useful keys,
//! generated from the active keymap, with actions the backend cannot do greyed out.

use super::text::{clean, fit, money, thousands};
use super::theme::Theme;
use crate::app::{Mode, Phase, State};
use crate::backend::Capabilities;
use crate::config::keymap::Command;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

const SPINNER: [char; 8] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧'];

pub fn spinner(state: &State) -> char {
    SPINNER[(state.requests.ticks % SPINNER.len() as u64) as usize]
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let width = usize::from(area.width);
    let sep = || Span::styled(" │ ", theme.dim);
    // A long path keeps its end: the file's name matters more than the directories above it.
    let mut spans = vec![Span::styled(
        super::text::fit_start(&state.settings.source_label, (width / 4).max(8)),
        theme.accent,
    )];
    match &state.phase {
        Phase::Loading => {
            spans.push(sep());
            spans.push(Span::styled(
                format!("{} loading", spinner(state)),
                theme.text,
            ));
        }
        Phase::Failed(_) => {
            spans.push(sep());
            spans.push(Span::styled("not opened", theme.error));
        }
        Phase::Ready => {
            spans.push(sep());
            match state.txns.total {
                Some(n) => {
                    spans.push(Span::styled(
                        format!("{} match{}", thousands(n), if n == 1 { "" } else { "es" }),
                        theme.text,
                    ));
                    spans.push(Span::styled(
                        format!(" Σ {}", money(&state.txns.sum)),
                        theme.dim,
                    ));
                }
                None => spans.push(Span::styled(format!("{} …", spinner(state)), theme.dim)),
            }
            if !state.screen.selection.ids.is_empty() || state.screen.selection.collecting.is_some()
            {
                spans.push(sep());
                let text = match state.screen.selection.collecting {
                    Some((got, total)) => format!(
                        "{} selecting {}/{}",
                        spinner(state),
                        thousands(got),
                        thousands(total)
                    ),
                    None => format!(
                        "{} selected Σ {}",
                        thousands(state.screen.selection.ids.len()),
                        money(&state.screen.selection.sum)
                    ),
                };
                spans.push(Span::styled(text, theme.selected));
            }
            spans.push(sep());
            let review = state.data.review_count.map_or("…".to_string(), thousands);
            spans.push(Span::styled(format!("review {review}"), theme.accent));
            for (text, error) in activity(state, chrono::Utc::now()) {
                spans.push(sep());
                spans.push(Span::styled(
                    text,
                    if error { theme.error } else { theme.dim },
                ));
            }
            if state.writes.pending > 0 {
                spans.push(sep());
                let text = match &state.writes.progress {
                    Some((_, done, total)) if *total > 1 => format!(
                        "{} writing {}% ({}/{})",
                        spinner(state),
                        done * 100 / total,
                        thousands(*done),
                        thousands(*total)
                    ),
                    _ => format!("{} writing {}", spinner(state), state.writes.pending),
                };
                spans.push(Span::styled(text, theme.accent));
            }
        }
    }
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = width.saturating_sub(used + 3);
    // The latest message has the footer line to itself; the status bar keeps the last error in view.
    if let Some(error) = &state.last_error
        && room > 4
        && state.status.as_ref().is_none_or(|m| !m.error)
    {
        spans.push(sep());
        spans.push(Span::styled(fit(&clean(error), room), theme.error));
    }
    frame.render_widget(Line::from(spans), area);
}

/// How long ago, in the fewest words: "just now", "5 min", "3 h", "2 days".
pub fn age(since: chrono::TimeDelta) -> String {
    let secs = since.num_seconds().max(0);
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// What the backend does in the background, as status-bar pieces (text, is an error): a mirror's sync progress or
/// age, edits being sent (or held by the server's rate limit), edits the server refused.
pub fn activity(state: &State, now: chrono::DateTime<chrono::Utc>) -> Vec<(String, bool)> {
    let a = &state.data.activity;
    let mut out = Vec::new();
    match (a.syncing, a.synced_at) {
        (Some((got, Some(total))), _) => out.push((
            format!(
                "{} syncing {}/{}",
                spinner(state),
                thousands(got),
                thousands(total)
            ),
            false,
        )),
        (Some((got, None)), _) => {
            out.push((
                format!("{} syncing {}", spinner(state), thousands(got)),
                false,
            ));
        }
        (None, Some(at)) => out.push((format!("synced {}", age(now - at)), false)),
        (None, None) => {}
    }
    if a.queued > 0 {
        let text = match a.paused_until {
            Some(until) => format!(
                "{} edit(s) wait: rate limit until {}",
                thousands(a.queued),
                until.with_timezone(&chrono::Local).format("%H:%M:%S")
            ),
            None => format!(
                "{} sending {}/{}",
                spinner(state),
                thousands(a.sent),
                thousands(a.sent + a.queued)
            ),
        };
        out.push((text, false));
    }
    if a.failed > 0 {
        out.push((format!("{} edit(s) refused", thousands(a.failed)), true));
    }
    out
}

/// Whether the backend can do what `command` asks; `None` for commands that need no capability.
pub fn capable(caps: &Capabilities, command: Command) -> Option<bool> {
    match command {
        Command::AddTag | Command::RemoveTag => Some(caps.edit_tags),
        Command::MarkReviewed | Command::MarkPending => Some(caps.edit_status),
        Command::SetCategory => Some(caps.edit_category),
        Command::SetNote => Some(caps.edit_notes),
        Command::Sync => Some(caps.sync),
        Command::Archive => Some(caps.archive),
        _ => None,
    }
}

pub fn draw_footer(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let width = usize::from(area.width);
    let fixed: Option<&str> = match state.screen.mode {
        Mode::Filter => Some(
            "Enter/Esc done  ↑/↓ scroll  terms: words acct: desc: payee: tag:NAME amt:>50 date:2025-03 status:! cur: not: is:review",
        ),
        Mode::Prompt(_) => Some(
            "Enter apply  Tab complete  Esc cancel  (tags: name or name:value, space-separated)",
        ),
        Mode::Help => Some("any key closes help"),
        Mode::Form(_) => Some("Enter saves  Tab completes / next field  ↑/↓ move  Esc cancels"),
        Mode::Import(_) => Some("Space accepts/rejects  A all  N none  Enter imports  Esc cancels"),
        Mode::Reconcile(_) => {
            Some("Space ticks cleared  p takes the proposal  Enter finishes  Esc leaves")
        }
        Mode::Normal => None,
    };
    if let (Mode::Normal, Some(message)) = (&state.screen.mode, &state.status) {
        let style = if message.error {
            theme.error
        } else {
            theme.accent
        };
        frame.render_widget(Span::styled(fit(&message.text, width), style), area);
        return;
    }
    if let Some(text) = fixed {
        frame.render_widget(Span::styled(fit(text, width), theme.dim), area);
        return;
    }
    let mut spans: Vec<Span<'_>> = Vec::new();
    let mut used = 0;
    for (command, item) in state.settings.keymap.footer_items() {
        let extra = if spans.is_empty() { 0 } else { 2 };
        if used + extra + item.width() > width {
            break;
        }
        if extra > 0 {
            spans.push(Span::raw("  "));
        }
        used += extra + item.width();
        let available = state.phase == Phase::Ready
            && capable(&state.data.capabilities, command) != Some(false);
        let (key, word) = item.split_once(' ').unwrap_or((item.as_str(), ""));
        let (key_style, word_style) =
            if available || command == Command::Help || command == Command::Quit {
                (theme.key, theme.dim)
            } else {
                (
                    theme.dim,
                    theme
                        .dim
                        .add_modifier(ratatui::style::Modifier::CROSSED_OUT),
                )
            };
        spans.push(Span::styled(key.to_string(), key_style));
        spans.push(Span::styled(format!(" {word}"), word_style));
    }
    frame.render_widget(Line::from(spans), area);
}
