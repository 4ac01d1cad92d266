//! The parts of an MIT `krb5.conf` (the "profile" format, krb5.conf(5)) the
//! package uses where its registry says nothing: `[libdefaults]
//! default_realm`, each realm's `kdc` list in `[realms]`, and `[domain_realm]`.
//!
//! No maintained crate parses the profile format alone (the one Kerberos
//! crate with a loader, `kerbcore`, brings a whole second Kerberos stack), so
//! this is a small parser of its own: bounded (file size, nesting depth),
//! never panicking, every error naming `file:line`. It reads sections
//! (`[name]`), relations (`tag = value`), subsections (`tag = { … }`), `#` and
//! `;` comment lines and the `*` "final" mark (accepted, not needed with one
//! file). `include` and `includedir` are not followed (a debug message says
//! so). The file is read only if no other user can write it (`sspi_trust`).

use std::path::Path;

/// The largest krb5.conf read.
pub const MAX_KRB5_CONF_LEN: u64 = 1 << 20;
/// The deepest nesting of subsections accepted.
const MAX_DEPTH: usize = 8;

/// What the package takes from a krb5.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Krb5Conf {
    /// `[libdefaults] default_realm`, if set.
    pub default_realm: Option<String>,
    /// `[realms] REALM = { kdc = host[:port] … }`, in file order.
    pub realms: Vec<(String, Vec<String>)>,
    /// `[domain_realm]`: `host` or `.domain` → realm, in file order.
    pub domain_realm: Vec<(String, String)>,
}

/// A relation or subsection of the profile tree.
#[derive(Debug)]
enum Node {
    Value(String),
    Section(Vec<(String, Node)>),
}

impl Krb5Conf {
    /// Reads `path`, refusing a file another user can write.
    pub fn load(path: &Path) -> Result<Krb5Conf, String> {
        let bytes = sspi_trust::read_file(path, "krb5.conf", MAX_KRB5_CONF_LEN)
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8(bytes)
            .map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))?;
        Krb5Conf::parse(&text, &path.display().to_string())
    }

    /// Parses krb5.conf text; `file` names it in errors (`file:line: …`).
    pub fn parse(text: &str, file: &str) -> Result<Krb5Conf, String> {
        let sections = parse_tree(text, file)?;
        let mut conf = Krb5Conf::default();
        for (name, body) in &sections {
            match name.as_str() {
                "libdefaults" => {
                    if conf.default_realm.is_none()
                        && let Some(realm) = first_value(body, "default_realm")
                    {
                        conf.default_realm = Some(realm.to_string());
                    }
                }
                "realms" => {
                    for (realm, node) in body {
                        let Node::Section(entries) = node else {
                            continue;
                        };
                        let kdcs: Vec<String> = entries
                            .iter()
                            .filter(|(k, _)| k == "kdc")
                            .filter_map(|(_, v)| match v {
                                // MIT's transport prefixes: this package uses TCP.
                                Node::Value(v) => Some(
                                    v.strip_prefix("tcp/")
                                        .or_else(|| v.strip_prefix("udp/"))
                                        .unwrap_or(v)
                                        .to_string(),
                                ),
                                Node::Section(_) => None,
                            })
                            .collect();
                        match conf.realms.iter_mut().find(|(r, _)| r == realm) {
                            Some((_, list)) => list.extend(kdcs),
                            None => conf.realms.push((realm.clone(), kdcs)),
                        }
                    }
                }
                "domain_realm" => {
                    for (domain, node) in body {
                        if let Node::Value(realm) = node {
                            conf.domain_realm
                                .push((domain.to_ascii_lowercase(), realm.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(conf)
    }

    /// The KDCs `[realms]` lists for `realm` (exact name, as MIT matches it).
    pub fn kdcs_of(&self, realm: &str) -> Option<&[String]> {
        self.realms
            .iter()
            .find(|(r, _)| r == realm)
            .map(|(_, k)| k.as_slice())
            .filter(|k| !k.is_empty())
    }

    /// The realm `[domain_realm]` maps `host` to, MIT's way: the whole
    /// (lower-cased) host name first, then each parent domain, most specific
    /// first, as `.domain` and then `domain`.
    pub fn realm_of_host(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let lookup = |key: &str| {
            self.domain_realm
                .iter()
                .find(|(d, _)| d == key)
                .map(|(_, r)| r.as_str())
        };
        if let Some(realm) = lookup(&host) {
            return Some(realm);
        }
        let mut rest = host.as_str();
        while let Some(dot) = rest.find('.') {
            let parent = &rest[dot..];
            if let Some(realm) = lookup(parent) {
                return Some(realm);
            }
            rest = &rest[dot + 1..];
            if let Some(realm) = lookup(rest) {
                return Some(realm);
            }
        }
        None
    }
}

fn first_value<'a>(body: &'a [(String, Node)], tag: &str) -> Option<&'a str> {
    body.iter().find_map(|(k, v)| match v {
        Node::Value(v) if k == tag => Some(v.as_str()),
        _ => None,
    })
}

/// A section's (or subsection's) tag and its entries.
type Tagged = (String, Vec<(String, Node)>);

/// The sections of a profile, each a list of relations.
fn parse_tree(text: &str, file: &str) -> Result<Vec<Tagged>, String> {
    let mut sections: Vec<Tagged> = Vec::new();
    // The open subsections: their tags and entries, innermost last.
    let mut open: Vec<Tagged> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let fail = |message: &str| format!("{file}:{line_no}: {message}");
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with("include ") || line.starts_with("includedir ") || line == "module" {
            tracing::debug!("{file}:{line_no}: {line:?} is not followed");
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if !open.is_empty() {
                return Err(fail("a section starts inside an unclosed '{'"));
            }
            let Some(end) = rest.find(']') else {
                return Err(fail("a section name without its closing ']'"));
            };
            let name = rest[..end].trim();
            if name.is_empty() {
                return Err(fail("an empty section name"));
            }
            sections.push((name.to_string(), Vec::new()));
            continue;
        }
        if line.starts_with('}') {
            let Some((tag, entries)) = open.pop() else {
                return Err(fail("a '}' without its '{'"));
            };
            let node = (tag, Node::Section(entries));
            match open.last_mut() {
                Some((_, parent)) => parent.push(node),
                None => match sections.last_mut() {
                    Some((_, body)) => body.push(node),
                    None => return Err(fail("a relation before the first [section]")),
                },
            }
            continue;
        }
        let Some((tag, value)) = line.split_once('=') else {
            return Err(fail(&format!(
                "expected 'tag = value', '[section]' or '}}', found {:?}",
                clip(line)
            )));
        };
        let tag = tag.trim();
        if tag.is_empty() || tag.contains(char::is_whitespace) {
            return Err(fail(&format!("a bad tag {:?}", clip(tag))));
        }
        if sections.is_empty() {
            return Err(fail("a relation before the first [section]"));
        }
        let value = value.trim();
        if value == "{" {
            if open.len() >= MAX_DEPTH {
                return Err(fail(&format!(
                    "subsections nested more than {MAX_DEPTH} deep"
                )));
            }
            open.push((tag.to_string(), Vec::new()));
            continue;
        }
        let value = unquote(value.strip_suffix('*').map(str::trim_end).unwrap_or(value));
        let node = (tag.to_string(), Node::Value(value));
        match open.last_mut() {
            Some((_, entries)) => entries.push(node),
            None => match sections.last_mut() {
                Some((_, body)) => body.push(node),
                None => return Err(fail("a relation before the first [section]")),
            },
        }
    }
    if let Some((tag, _)) = open.last() {
        return Err(format!(
            "{file}: the subsection {:?} is not closed with '}}' by the end of the file",
            clip(tag)
        ));
    }
    Ok(sections)
}

/// A value without its double quotes (with `\"`, `\\`, `\n`, `\t` inside).
fn unquote(value: &str) -> String {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|_| value.len() >= 2)
    else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MIT-style krb5.conf as administrators write it (Debian's layout).
    const MIT_STYLE: &str = r#"
# /etc/krb5.conf
[libdefaults]
	default_realm = EXAMPLE.COM
	dns_lookup_realm = false
	ticket_lifetime = 24h
	forwardable = true
	rdns = false

[realms]
	EXAMPLE.COM = {
		kdc = kdc1.example.com
		kdc = tcp/kdc2.example.com:88
		admin_server = kdc1.example.com
		auth_to_local = RULE:[1:$1@$0](.*@EXAMPLE\.COM)s/@.*//
		auth_to_local = DEFAULT
	}
	OTHER.ORG = {
		kdc = "kdc.other.org:750"
	}

[domain_realm]
	.example.com = EXAMPLE.COM
	example.com = EXAMPLE.COM
	.Other.Org = OTHER.ORG
	special.example.com = OTHER.ORG

[capaths]
	EXAMPLE.COM = {
		OTHER.ORG = .
	}

[logging]
	default = FILE:/var/log/krb5libs.log
"#;

    #[test]
    fn reads_an_mit_style_file() {
        let conf = Krb5Conf::parse(MIT_STYLE, "krb5.conf").unwrap();
        assert_eq!(conf.default_realm.as_deref(), Some("EXAMPLE.COM"));
        assert_eq!(
            conf.kdcs_of("EXAMPLE.COM").unwrap(),
            ["kdc1.example.com", "kdc2.example.com:88"]
        );
        assert_eq!(conf.kdcs_of("OTHER.ORG").unwrap(), ["kdc.other.org:750"]);
        assert_eq!(conf.kdcs_of("example.com"), None);
        assert_eq!(conf.realm_of_host("web.example.com"), Some("EXAMPLE.COM"));
        assert_eq!(conf.realm_of_host("WEB.Example.COM."), Some("EXAMPLE.COM"));
        assert_eq!(conf.realm_of_host("example.com"), Some("EXAMPLE.COM"));
        assert_eq!(conf.realm_of_host("special.example.com"), Some("OTHER.ORG"));
        assert_eq!(conf.realm_of_host("a.b.other.org"), Some("OTHER.ORG"));
        assert_eq!(conf.realm_of_host("other.org"), None);
        assert_eq!(conf.realm_of_host("nowhere.net"), None);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, what) in [
            (
                "[libdefaults]\n default_realm\n",
                2,
                "expected 'tag = value'",
            ),
            ("default_realm = X\n", 1, "before the first [section]"),
            ("[realms\n", 1, "closing ']'"),
            ("[realms]\n R = {\n kdc = a\n[x]\n", 4, "unclosed"),
            ("[realms]\n }\n", 2, "without its '{'"),
            ("[a]\n b c = d\n", 2, "bad tag"),
        ] {
            let e = Krb5Conf::parse(text, "k.conf").unwrap_err();
            assert!(e.starts_with(&format!("k.conf:{line}: ")), "{e}");
            assert!(e.contains(what), "{e}");
        }
        let e = Krb5Conf::parse("[realms]\n R = {\n kdc = a\n", "k.conf").unwrap_err();
        assert!(e.contains("not closed"), "{e}");
        let deep = format!("[a]\n{}", "x = {\n".repeat(MAX_DEPTH + 1));
        let e = Krb5Conf::parse(&deep, "k.conf").unwrap_err();
        assert!(e.contains("nested more than"), "{e}");
    }

    #[test]
    fn never_panics_on_junk() {
        for text in [
            "",
            "[",
            "]",
            "=",
            "{",
            "}",
            "[a]\n=\n",
            "[a]\nx=\"\n",
            "[a]\nx = \"\\\"\n",
        ] {
            let _ = Krb5Conf::parse(text, "j");
        }
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("\"a\\\"b\""), "a\"b");
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("krb5.conf");
        std::fs::write(&path, MIT_STYLE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            Krb5Conf::load(&path).unwrap().default_realm.as_deref(),
            Some("EXAMPLE.COM")
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = Krb5Conf::load(&path).unwrap_err();
        assert!(e.contains("krb5.conf"), "{e}");
    }
}
