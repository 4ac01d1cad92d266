//! The `.reg` grammar: regedit (version 5 and REGEDIT4) and CE Platform Builder syntax.

use std::path::Path;
use std::sync::Arc;

use crate::encoding::decode;
use crate::error::RegistryError;
use crate::file::{RegEntry, RegFile, RegHeader};
use crate::key_path::KeyPath;
use crate::lines::{Ch, Line, Lines};
use crate::location::Location;
use crate::name::ValueName;
use crate::value::{REG_BINARY, RegValue, TextBytes};

/// Parses the bytes of a `.reg` file.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<RegFile, RegistryError> {
    let file: Arc<Path> = Arc::from(path);
    let text = decode(bytes, path)?;
    let mut lines = Lines::new(&text, file.clone());
    let mut parser = Parser {
        file,
        header: None,
        started: false,
        section: Section::None,
        entries: Vec::new(),
    };
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Key(chars) => parser.key_line(&chars)?,
            Line::Other(chars) => parser.other_line(&chars)?,
        }
        parser.started = true;
    }
    Ok(RegFile {
        path: parser.file,
        header: parser.header,
        entries: parser.entries,
    })
}

/// The key that value lines currently go into.
enum Section {
    /// No key line yet.
    None,
    /// After `[key]`.
    Open(KeyPath),
    /// After `[-key]`.
    Deleted(KeyPath),
}

struct Parser {
    file: Arc<Path>,
    header: Option<RegHeader>,
    started: bool,
    section: Section,
    entries: Vec<RegEntry>,
}

/// What an error is about.
#[derive(Clone, Copy)]
struct Context<'a> {
    key: Option<&'a KeyPath>,
    value: Option<&'a ValueName>,
}

/// Reads through the characters of one line.
struct Cursor<'a> {
    chars: &'a [Ch],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|ch| ch.c)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    /// Line and column of the current character (one past the last one at the end).
    fn here(&self) -> (u32, u32) {
        position(self.chars, self.pos)
    }

    /// Takes characters while `keep` holds.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    /// The rest of the line, for messages.
    fn rest(&self) -> String {
        let rest: String = self.chars.iter().skip(self.pos).map(|ch| ch.c).collect();
        shorten(&rest)
    }
}

fn position(chars: &[Ch], index: usize) -> (u32, u32) {
    match chars.get(index) {
        Some(ch) => (ch.line, ch.col),
        None => chars
            .last()
            .map_or((1, 1), |ch| (ch.line, ch.col.saturating_add(1))),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        let mut out: String = text.chars().take(MAX).collect();
        out.push_str("...");
        out
    } else {
        text.to_owned()
    }
}

const DATA_FORMS: &str = "a quoted string, `-`, dword:, hex:, hex(N):, multi_sz: or expand_sz:";

impl Parser {
    fn error(
        &self,
        (line, column): (u32, u32),
        context: Context<'_>,
        message: impl Into<String>,
    ) -> RegistryError {
        RegistryError::Syntax {
            location: Location::new(self.file.clone(), line, column),
            key: context.key.map(|k| k.as_str().to_owned()),
            value: context.value.map(|v| v.as_str().to_owned()),
            message: message.into(),
        }
    }

    fn location(&self, (line, column): (u32, u32)) -> Location {
        Location::new(self.file.clone(), line, column)
    }

    fn text_bytes(&self) -> TextBytes {
        match self.header {
            Some(RegHeader::Regedit4) => TextBytes::Ansi,
            Some(RegHeader::Version5) | None => TextBytes::Utf16,
        }
    }

    /// `[path]` or `[-path]`, optionally followed by a `;` comment.
    fn key_line(&mut self, chars: &[Ch]) -> Result<(), RegistryError> {
        let none = Context {
            key: None,
            value: None,
        };
        let closing = (1..chars.len()).find(|&i| {
            chars.get(i).is_some_and(|ch| ch.c == ']') && {
                let mut rest = chars.iter().skip(i + 1).map(|ch| ch.c);
                rest.find(|c| !c.is_whitespace()).is_none_or(|c| c == ';')
            }
        });
        let Some(closing) = closing else {
            let last_bracket = chars.iter().rposition(|ch| ch.c == ']');
            return Err(match last_bracket {
                Some(i) => {
                    let extra = (i + 1..chars.len())
                        .find(|&j| chars.get(j).is_some_and(|ch| !ch.c.is_whitespace()))
                        .unwrap_or(i + 1);
                    self.error(
                        position(chars, extra),
                        none,
                        "unexpected text after `]` of a key line",
                    )
                }
                None => self.error(
                    position(chars, 0),
                    none,
                    "unterminated `[`: the key line has no closing `]`",
                ),
            });
        };
        let inner = chars.get(1..closing).unwrap_or_default();
        let (delete, inner, inner_start) = match inner.first() {
            Some(ch) if ch.c == '-' => (true, inner.get(1..).unwrap_or_default(), 2),
            _ => (false, inner, 1),
        };
        let text: String = inner.iter().map(|ch| ch.c).collect();
        let path = KeyPath::parse_at(&text).map_err(|(offset, message)| {
            self.error(position(chars, inner_start + offset), none, message)
        })?;
        let location = self.location(position(chars, 0));
        if delete {
            self.section = Section::Deleted(path.clone());
            self.entries.push(RegEntry::DeleteKey { path, location });
        } else {
            self.section = Section::Open(path.clone());
            self.entries.push(RegEntry::OpenKey { path, location });
        }
        Ok(())
    }

    /// A header, a value line, or something we reject with a clear message.
    fn other_line(&mut self, chars: &[Ch]) -> Result<(), RegistryError> {
        let none = Context {
            key: None,
            value: None,
        };
        let text: String = chars.iter().map(|ch| ch.c).collect();
        let header = [RegHeader::Version5, RegHeader::Regedit4]
            .into_iter()
            .find(|h| text.eq_ignore_ascii_case(h.text()));
        if let Some(header) = header {
            if self.started {
                return Err(self.error(
                    position(chars, 0),
                    none,
                    format!(
                        "the header `{}` must be the first line of the file",
                        header.text()
                    ),
                ));
            }
            self.header = Some(header);
            return Ok(());
        }
        match chars.first().map(|ch| ch.c) {
            Some('"' | '@') => return self.value_line(chars),
            Some('#') => {
                let word = text.split_whitespace().next().unwrap_or_default();
                return Err(self.error(
                    position(chars, 0),
                    none,
                    format!(
                        "preprocessor directive `{word}` is not supported: preprocess the file first"
                    ),
                ));
            }
            _ => {}
        }
        let word = text.split_whitespace().next().unwrap_or_default();
        if ["IF", "ENDIF", "ELSE", "ELSEIF"]
            .iter()
            .any(|d| word.eq_ignore_ascii_case(d))
        {
            return Err(self.error(
                position(chars, 0),
                none,
                format!(
                    "conditional blocks (`{}`) are not supported: preprocess the file first",
                    shorten(&text)
                ),
            ));
        }
        Err(self.error(
            position(chars, 0),
            none,
            format!(
                "unexpected text \"{}\": expected a [key] line, a \"name\"=data or @=data line, \
                 or a ; comment",
                shorten(&text)
            ),
        ))
    }

    /// `"name"=data`, `@=data`, `"name"=-` or `@=-`.
    fn value_line(&mut self, chars: &[Ch]) -> Result<(), RegistryError> {
        let mut cur = Cursor { chars, pos: 0 };
        let start = cur.here();
        let key = match &self.section {
            Section::Open(key) | Section::Deleted(key) => Some(key.clone()),
            Section::None => None,
        };
        let name = if cur.eat('@') {
            ValueName::Default
        } else {
            let context = Context {
                key: key.as_ref(),
                value: None,
            };
            ValueName::from_stored(&self.quoted(&mut cur, context)?)
        };
        let context = Context {
            key: key.as_ref(),
            value: Some(&name),
        };
        let key = match &self.section {
            Section::Open(key) => key.clone(),
            Section::None => {
                return Err(self.error(start, context, "value line before any [key] line"));
            }
            Section::Deleted(deleted) => {
                return Err(self.error(
                    start,
                    context,
                    format!("value line after the key deletion [-{deleted}]: there is no open key"),
                ));
            }
        };
        cur.skip_ws();
        if !cur.eat('=') {
            return Err(self.error(cur.here(), context, "missing `=` after the value name"));
        }
        cur.skip_ws();
        let location = self.location(start);
        if cur.eat('-') {
            self.end(&mut cur, context)?;
            self.entries.push(RegEntry::DeleteValue {
                key,
                name,
                location,
            });
            return Ok(());
        }
        let value = self.data(&mut cur, context)?;
        self.entries.push(RegEntry::SetValue {
            key,
            name,
            value,
            location,
        });
        Ok(())
    }

    /// The data after `=`.
    fn data(&self, cur: &mut Cursor<'_>, context: Context<'_>) -> Result<RegValue, RegistryError> {
        match cur.peek() {
            None => {
                return Err(self.error(
                    cur.here(),
                    context,
                    format!("missing value data after `=` (expected {DATA_FORMS})"),
                ));
            }
            Some('"') => {
                let text = self.quoted(cur, context)?;
                self.end(cur, context)?;
                return Ok(RegValue::Sz(text));
            }
            Some(_) => {}
        }
        let word_at = cur.here();
        let word = cur.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        let lower = word.to_ascii_lowercase();
        if lower == "hex" && cur.eat('(') {
            let kind_at = cur.here();
            let digits = cur.take_while(|c| c != ')' && c != ':');
            if !cur.eat(')') {
                return Err(self.error(word_at, context, "unterminated `hex(`: missing `)`"));
            }
            let kind = parse_hex_u32(&digits).ok_or_else(|| {
                self.error(
                    kind_at,
                    context,
                    format!("invalid type number \"{digits}\" in hex(N): (1 to 8 hex digits)"),
                )
            })?;
            if !cur.eat(':') {
                return Err(self.error(cur.here(), context, "missing `:` after hex(N)"));
            }
            let data_at = cur.here();
            let bytes = self.hex_list(cur, context)?;
            return RegValue::from_hex(kind, bytes, self.text_bytes())
                .map_err(|message| self.error(data_at, context, message));
        }
        if !cur.eat(':') {
            return Err(self.error(
                word_at,
                context,
                format!(
                    "invalid value data \"{}\" (expected {DATA_FORMS})",
                    cur_rest_from(cur, word_at)
                ),
            ));
        }
        match lower.as_str() {
            "dword" => self.dword(cur, context),
            "hex" => {
                let data_at = cur.here();
                let bytes = self.hex_list(cur, context)?;
                RegValue::from_hex(REG_BINARY, bytes, self.text_bytes())
                    .map_err(|message| self.error(data_at, context, message))
            }
            "multi_sz" => self.multi_sz(cur, context),
            "expand_sz" => {
                cur.skip_ws();
                if cur.peek() != Some('"') {
                    return Err(self.error(
                        cur.here(),
                        context,
                        "expected a quoted string after expand_sz:",
                    ));
                }
                let text = self.quoted(cur, context)?;
                self.end(cur, context)?;
                Ok(RegValue::ExpandSz(text))
            }
            _ => Err(self.error(
                word_at,
                context,
                format!("unknown value type \"{word}:\" (expected {DATA_FORMS})"),
            )),
        }
    }

    /// `dword:` followed by 1 to 8 hex digits.
    fn dword(&self, cur: &mut Cursor<'_>, context: Context<'_>) -> Result<RegValue, RegistryError> {
        cur.skip_ws();
        let at = cur.here();
        let digits = cur.take_while(|c| !c.is_whitespace());
        if digits.is_empty() {
            return Err(self.error(at, context, "missing hex digits after dword:"));
        }
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.error(
                at,
                context,
                format!("invalid dword \"{}\"", shorten(&digits)),
            ));
        }
        let value = parse_hex_u32(&digits).ok_or_else(|| {
            self.error(
                at,
                context,
                format!("dword \"{digits}\" out of range (at most 8 hex digits)"),
            )
        })?;
        self.end(cur, context)?;
        Ok(RegValue::Dword(value))
    }

    /// Comma-separated hex bytes (possibly none).
    fn hex_list(
        &self,
        cur: &mut Cursor<'_>,
        context: Context<'_>,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut bytes = Vec::new();
        cur.skip_ws();
        if cur.at_end() {
            return Ok(bytes);
        }
        loop {
            cur.skip_ws();
            let at = cur.here();
            let token = cur.take_while(|c| c != ',' && !c.is_whitespace());
            let byte = (1..=2)
                .contains(&token.len())
                .then(|| u8::from_str_radix(&token, 16).ok())
                .flatten()
                .filter(|_| token.chars().all(|c| c.is_ascii_hexdigit()));
            let Some(byte) = byte else {
                let message = if token.is_empty() {
                    "missing hex byte (expected two hex digits)".to_owned()
                } else {
                    format!("invalid hex byte \"{}\"", shorten(&token))
                };
                return Err(self.error(at, context, message));
            };
            bytes.push(byte);
            cur.skip_ws();
            if cur.at_end() {
                return Ok(bytes);
            }
            if !cur.eat(',') {
                return Err(self.error(cur.here(), context, "expected `,` between hex bytes"));
            }
        }
    }

    /// `multi_sz:"a","b"` (possibly empty).
    fn multi_sz(
        &self,
        cur: &mut Cursor<'_>,
        context: Context<'_>,
    ) -> Result<RegValue, RegistryError> {
        let mut list = Vec::new();
        cur.skip_ws();
        if cur.at_end() {
            return Ok(RegValue::MultiSz(list));
        }
        loop {
            cur.skip_ws();
            if cur.peek() != Some('"') {
                return Err(self.error(
                    cur.here(),
                    context,
                    "expected a quoted string in the multi_sz: list",
                ));
            }
            list.push(self.quoted(cur, context)?);
            cur.skip_ws();
            if cur.at_end() {
                return Ok(RegValue::MultiSz(list));
            }
            if !cur.eat(',') {
                return Err(self.error(
                    cur.here(),
                    context,
                    "expected `,` between the strings of a multi_sz: list",
                ));
            }
        }
    }

    /// A `"..."` string with `\\` and `\"` escapes; the cursor is on the opening quote.
    fn quoted(&self, cur: &mut Cursor<'_>, context: Context<'_>) -> Result<String, RegistryError> {
        let open = cur.here();
        if !cur.eat('"') {
            return Err(self.error(open, context, "expected `\"`"));
        }
        let mut out = String::new();
        loop {
            let at = cur.here();
            match cur.bump() {
                None => {
                    return Err(self.error(
                        open,
                        context,
                        "unterminated string: missing closing `\"`",
                    ));
                }
                Some('"') => return Ok(out),
                Some('\\') => match cur.bump() {
                    Some(c @ ('\\' | '"')) => out.push(c),
                    None => {
                        return Err(self.error(
                            open,
                            context,
                            "unterminated string: missing closing `\"`",
                        ));
                    }
                    Some(c) => {
                        return Err(self.error(
                            at,
                            context,
                            format!(
                                "bad escape `\\{c}` in string (only `\\\\` and `\\\"` are allowed)"
                            ),
                        ));
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// Only whitespace may follow the data.
    fn end(&self, cur: &mut Cursor<'_>, context: Context<'_>) -> Result<(), RegistryError> {
        cur.skip_ws();
        if cur.at_end() {
            Ok(())
        } else {
            Err(self.error(
                cur.here(),
                context,
                format!("unexpected text after the value data: \"{}\"", cur.rest()),
            ))
        }
    }
}

/// The line text from a position, for messages.
fn cur_rest_from(cur: &Cursor<'_>, (line, col): (u32, u32)) -> String {
    let start = cur
        .chars
        .iter()
        .position(|ch| ch.line == line && ch.col == col)
        .unwrap_or(cur.pos);
    let rest: String = cur.chars.iter().skip(start).map(|ch| ch.c).collect();
    shorten(&rest)
}

/// 1 to 8 hex digits.
fn parse_hex_u32(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 8 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}
