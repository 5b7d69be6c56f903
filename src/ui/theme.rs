//! Colours and text styles for the dashboard, from the configured theme: dark, light, or the 16 basic ANSI colours
//! for terminals without 256/true colour. With `NO_COLOR` set every style is monochrome and meaning is carried by
//! bold, reverse video and dimming alone.

use crate::config::{ColorDepth, ThemeName};
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub header: Style,
    pub cursor: Style,
    pub selected: Style,
    pub positive: Style,
    pub negative: Style,
    pub error: Style,
    pub accent: Style,
    pub key: Style,
    pub bar: Style,
}

impl Theme {
    pub fn new(name: ThemeName, no_color: bool) -> Theme {
        if no_color {
            return Theme::monochrome();
        }
        let (fg, dim, accent, pos, neg, err, sel_bg, bar) = match name {
            ThemeName::Dark => (
                Color::Rgb(220, 220, 220),
                Color::Rgb(130, 130, 130),
                Color::Rgb(110, 170, 255),
                Color::Rgb(110, 200, 120),
                Color::Rgb(240, 110, 100),
                Color::Rgb(255, 90, 90),
                Color::Rgb(50, 60, 90),
                Color::Rgb(110, 170, 255),
            ),
            ThemeName::Light => (
                Color::Rgb(30, 30, 30),
                Color::Rgb(120, 120, 120),
                Color::Rgb(20, 80, 180),
                Color::Rgb(20, 120, 40),
                Color::Rgb(180, 30, 30),
                Color::Rgb(200, 0, 0),
                Color::Rgb(210, 225, 250),
                Color::Rgb(20, 80, 180),
            ),
            ThemeName::Ansi16 => (
                Color::Reset,
                Color::DarkGray,
                Color::LightBlue,
                Color::Green,
                Color::Red,
                Color::LightRed,
                Color::Blue,
                Color::Cyan,
            ),
        };
        Theme {
            text: Style::new().fg(fg),
            dim: Style::new().fg(dim),
            title: Style::new().fg(accent).add_modifier(Modifier::BOLD),
            border: Style::new().fg(dim),
            border_focus: Style::new().fg(accent),
            header: Style::new().fg(fg).add_modifier(Modifier::BOLD),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            selected: Style::new().bg(sel_bg).fg(fg),
            positive: Style::new().fg(pos),
            negative: Style::new().fg(neg),
            error: Style::new().fg(err).add_modifier(Modifier::BOLD),
            accent: Style::new().fg(accent),
            key: Style::new().fg(accent).add_modifier(Modifier::BOLD),
            bar: Style::new().fg(bar),
        }
    }

    fn monochrome() -> Theme {
        let plain = Style::new();
        Theme {
            text: plain,
            dim: plain.add_modifier(Modifier::DIM),
            title: plain.add_modifier(Modifier::BOLD),
            border: plain,
            border_focus: plain.add_modifier(Modifier::BOLD),
            header: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            cursor: plain.add_modifier(Modifier::REVERSED),
            selected: plain.add_modifier(Modifier::BOLD),
            positive: plain,
            negative: plain,
            error: plain.add_modifier(Modifier::BOLD),
            accent: plain.add_modifier(Modifier::BOLD),
            key: plain.add_modifier(Modifier::BOLD),
            bar: plain,
        }
    }

    /// The theme as the terminal can show it: RGB colours become the nearest of the 256 indexed ones, or, with only
    /// the basic 16, the 16-colour theme's.
    pub fn for_depth(self, depth: ColorDepth) -> Theme {
        match depth {
            ColorDepth::True => self,
            ColorDepth::Basic16 => {
                if self.text.fg.is_none() {
                    self
                } else {
                    Theme::new(ThemeName::Ansi16, false)
                }
            }
            ColorDepth::Indexed256 => {
                let map = |s: Style| Style {
                    fg: s.fg.map(indexed),
                    bg: s.bg.map(indexed),
                    ..s
                };
                Theme {
                    text: map(self.text),
                    dim: map(self.dim),
                    title: map(self.title),
                    border: map(self.border),
                    border_focus: map(self.border_focus),
                    header: map(self.header),
                    cursor: map(self.cursor),
                    selected: map(self.selected),
                    positive: map(self.positive),
                    negative: map(self.negative),
                    error: map(self.error),
                    accent: map(self.accent),
                    key: map(self.key),
                    bar: map(self.bar),
                }
            }
        }
    }

    /// Green for money in, red for money out.
    pub fn amount(&self, negative: bool) -> Style {
        if negative {
            self.negative
        } else {
            self.positive
        }
    }
}

/// The xterm 256-colour cube index nearest an RGB colour; other colours as they are.
fn indexed(c: Color) -> Color {
    match c {
        Color::Rgb(r, g, b) => {
            let level = |v: u8| (u16::from(v) * 5 + 127) / 255;
            Color::Indexed((16 + 36 * level(r) + 6 * level(g) + level(b)) as u8)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_terminal() {
        use crate::config::color_depth_from;
        assert_eq!(
            color_depth_from(Some("truecolor"), Some("xterm-256color")),
            ColorDepth::True
        );
        assert_eq!(
            color_depth_from(None, Some("screen-256color")),
            ColorDepth::Indexed256
        );
        assert_eq!(color_depth_from(None, Some("linux")), ColorDepth::Basic16);
        let dark = Theme::new(ThemeName::Dark, false);
        let t = dark.for_depth(ColorDepth::Indexed256);
        assert!(
            matches!(t.text.fg, Some(Color::Indexed(_))),
            "{:?}",
            t.text.fg
        );
        let t = dark.for_depth(ColorDepth::Basic16);
        assert!(!matches!(
            t.text.fg,
            Some(Color::Rgb(..) | Color::Indexed(_))
        ));
        assert_eq!(indexed(Color::Rgb(255, 0, 0)), Color::Indexed(196));
    }

    #[test]
    fn no_color_uses_no_colours() {
        let t = Theme::new(ThemeName::Dark, true);
        for s in [t.text, t.error, t.negative, t.selected, t.cursor] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert_ne!(t.cursor, t.text);
    }
}
