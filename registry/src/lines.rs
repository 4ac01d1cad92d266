//! Splitting `.reg` text into logical lines: comments removed, continuations joined,
//! every character tagged with its physical line and column.

use std::iter::Enumerate;
use std::path::Path;
use std::str::Split;
use std::sync::Arc;

use crate::error::RegistryError;
use crate::location::Location;

/// One character with its 1-based physical line and column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ch {
    pub(crate) c: char,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

/// A line that matters to the parser.
pub(crate) enum Line {
    /// A physical line starting with `[` (leading whitespace removed, comment kept).
    Key(Vec<Ch>),
    /// Any other line, continuations joined, comment and surrounding whitespace removed.
    Other(Vec<Ch>),
}

/// Yields the [`Line`]s of a text, skipping blank and comment lines.
pub(crate) struct Lines<'a> {
    physical: Enumerate<Split<'a, char>>,
    file: Arc<Path>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The characters of one physical line, without the line break and leading whitespace.
fn physical_chars(index: usize, text: &str) -> Vec<Ch> {
    let text = text.strip_suffix('\r').unwrap_or(text);
    let line = to_u32(index.saturating_add(1));
    text.chars()
        .enumerate()
        .map(|(i, c)| Ch {
            c,
            line,
            col: to_u32(i.saturating_add(1)),
        })
        .skip_while(|ch| ch.c.is_whitespace())
        .collect()
}

/// Cuts a `;` comment that is outside quotes and trailing whitespace; tells whether the
/// line ended inside a quoted string.
fn strip_comment(chars: &mut Vec<Ch>) -> bool {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut cut = None;
    for (i, ch) in chars.iter().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if ch.c == '\\' {
                escaped = true;
            } else if ch.c == '"' {
                in_quotes = false;
            }
        } else if ch.c == '"' {
            in_quotes = true;
        } else if ch.c == ';' {
            cut = Some(i);
            break;
        }
    }
    if let Some(cut) = cut {
        chars.truncate(cut);
    }
    while chars.last().is_some_and(|ch| ch.c.is_whitespace()) {
        chars.pop();
    }
    in_quotes
}

impl<'a> Lines<'a> {
    /// Starts reading `text`, which came from `file`.
    pub(crate) fn new(text: &'a str, file: Arc<Path>) -> Self {
        // A final line break ends the last line; it does not start an empty one.
        let text = text.strip_suffix('\n').unwrap_or(text);
        Lines {
            physical: text.split('\n').enumerate(),
            file,
        }
    }

    /// The next line that is neither blank nor a comment.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line>, RegistryError> {
        loop {
            let Some((index, text)) = self.physical.next() else {
                return Ok(None);
            };
            let mut chars = physical_chars(index, text);
            match chars.first().map(|ch| ch.c) {
                None | Some(';') => continue,
                Some('[') => return Ok(Some(Line::Key(chars))),
                Some(_) => {}
            }
            let mut in_quotes = strip_comment(&mut chars);
            // A line ending in `\` or `,` (outside quotes) continues on the next line.
            while !in_quotes {
                let marker = match chars.last() {
                    Some(ch) if ch.c == '\\' => chars.pop(),
                    Some(ch) if ch.c == ',' => Some(*ch),
                    _ => None,
                };
                let Some(marker) = marker else { break };
                let Some((index, text)) = self.physical.next() else {
                    return Err(RegistryError::Syntax {
                        location: Location::new(self.file.clone(), marker.line, marker.col),
                        key: None,
                        value: None,
                        message: format!("line continuation `{}` at end of file", marker.c),
                    });
                };
                let mut next = physical_chars(index, text);
                if next.first().is_some_and(|ch| ch.c == ';') {
                    next.clear();
                }
                in_quotes = strip_comment(&mut next);
                chars.extend(next);
            }
            return Ok(Some(Line::Other(chars)));
        }
    }
}
