//! The in-memory registry tree and regedit import semantics.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::RegistryError;
use crate::file::{RegEntry, RegFile};
use crate::key_path::KeyPath;
use crate::location::Location;
use crate::name::{ValueName, fold_name};
use crate::value::RegValue;

/// One value of [`RegKey::flatten`]: relative key path, value name, value, where it was set.
pub type FlatValue<'a> = (String, String, &'a RegValue, &'a Location);

/// An in-memory registry: a tree of keys built by importing `.reg` files in order.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    roots: Vec<RegKey>,
    sources: Vec<Arc<Path>>,
}

/// One registry key: its values (in insertion order) and subkeys.
///
/// Values and subkeys are kept in maps keyed by their case-folded names, in
/// insertion order: an import costs one hash lookup per line, whatever the
/// size of the key.
#[derive(Debug, Clone)]
pub struct RegKey {
    name: String,
    path: String,
    location: Location,
    values: IndexMap<String, ValueSlot>,
    subkeys: IndexMap<String, RegKey>,
}

#[derive(Clone)]
struct ValueSlot {
    name: ValueName,
    value: RegValue,
    location: Location,
}

impl std::fmt::Debug for ValueSlot {
    /// Values whose name says they are secret (`Password`, `DefaultPassword`) print redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut slot = f.debug_struct("ValueSlot");
        slot.field("name", &self.name);
        if crate::name::is_secret(self.name.as_str()) {
            slot.field("value", &format_args!("<redacted>"));
        } else {
            slot.field("value", &self.value);
        }
        slot.field("location", &self.location).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Imports a parsed file like regedit: `[key]` creates the key and its parents,
    /// `[-key]` deletes it with all subkeys, a value line overwrites, `=-` deletes.
    pub fn apply(&mut self, file: &RegFile) {
        for entry in &file.entries {
            match entry {
                RegEntry::OpenKey { path, location } => {
                    self.ensure_key(path, location).location = location.clone();
                }
                RegEntry::DeleteKey { path, .. } => self.delete_key(path),
                RegEntry::SetValue {
                    key,
                    name,
                    value,
                    location,
                } => self.ensure_key(key, location).set(name, value, location),
                RegEntry::DeleteValue { key, name, .. } => {
                    if let Some(key) = self.key_mut(key) {
                        key.values.shift_remove(&fold_name(name.as_str()));
                    }
                }
            }
        }
        self.sources.push(file.path.clone());
    }

    /// Reads the files in order and imports each one, each followed by the
    /// `*.reg` files of its drop-in directory `<file>.d/` in name order
    /// ([`crate::layered_files`]): later files win.
    pub fn load_layered(paths: &[impl AsRef<Path>]) -> Result<Registry, RegistryError> {
        let mut registry = Registry::new();
        for path in crate::overlay::layered_files(paths)? {
            registry.apply(&RegFile::read(path)?);
        }
        Ok(registry)
    }

    /// The files imported so far, in order.
    pub fn sources(&self) -> &[Arc<Path>] {
        &self.sources
    }

    /// The root keys that exist, in creation order.
    pub fn roots(&self) -> impl Iterator<Item = &RegKey> {
        self.roots.iter()
    }

    /// Looks a key up by full path, case-insensitively; roots may be abbreviated (`HKLM`).
    pub fn key(&self, path: &str) -> Option<&RegKey> {
        let path = KeyPath::parse(path).ok()?;
        let mut key = self
            .roots
            .iter()
            .find(|root| root.name == path.root().name())?;
        for name in path.components() {
            key = key.subkey(name)?;
        }
        Some(key)
    }

    fn key_mut(&mut self, path: &KeyPath) -> Option<&mut RegKey> {
        let mut key = self
            .roots
            .iter_mut()
            .find(|root| root.name == path.root().name())?;
        for name in path.components() {
            key = key.subkeys.get_mut(&fold_name(name))?;
        }
        Some(key)
    }

    fn ensure_key(&mut self, path: &KeyPath, location: &Location) -> &mut RegKey {
        let root_name = path.root().name();
        let index = match self.roots.iter().position(|root| root.name == root_name) {
            Some(index) => index,
            None => {
                self.roots
                    .push(RegKey::new(root_name, root_name.to_owned(), location));
                self.roots.len() - 1
            }
        };
        let mut key = &mut self.roots[index];
        for name in path.components() {
            key = key.child_or_insert(name, location);
        }
        key
    }

    fn delete_key(&mut self, path: &KeyPath) {
        match path.parent() {
            None => self.roots.retain(|root| root.name != path.root().name()),
            Some(parent) => {
                let name = path.components().last().unwrap_or_default();
                if let Some(parent) = self.key_mut(&parent) {
                    parent.subkeys.shift_remove(&fold_name(name));
                }
            }
        }
    }
}

impl RegKey {
    fn new(name: &str, path: String, location: &Location) -> Self {
        RegKey {
            name: name.to_owned(),
            path,
            location: location.clone(),
            values: IndexMap::new(),
            subkeys: IndexMap::new(),
        }
    }

    fn child_or_insert(&mut self, name: &str, location: &Location) -> &mut RegKey {
        let parent = &self.path;
        self.subkeys
            .entry(fold_name(name))
            .or_insert_with(|| RegKey::new(name, format!("{parent}\\{name}"), location))
    }

    fn set(&mut self, name: &ValueName, value: &RegValue, location: &Location) {
        match self.values.entry(fold_name(name.as_str())) {
            indexmap::map::Entry::Occupied(mut slot) => {
                let slot = slot.get_mut();
                slot.value = value.clone();
                slot.location = location.clone();
            }
            indexmap::map::Entry::Vacant(slot) => {
                slot.insert(ValueSlot {
                    name: ValueName::from_stored(name.as_str()),
                    value: value.clone(),
                    location: location.clone(),
                });
            }
        }
    }

    /// The key's own name (the root's full name for a root key), as first written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's full path, e.g. `HKEY_LOCAL_MACHINE\Comm\SecurityProviders`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where the key was last opened (or, if never opened itself, where it was created).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// A value by name, case-insensitively; `""` is the default value (`@`).
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        self.value_entry(name).map(|(value, _)| value)
    }

    /// A value and where it was last set.
    pub fn value_entry(&self, name: &str) -> Option<(&RegValue, &Location)> {
        self.values
            .get(&fold_name(name))
            .map(|slot| (&slot.value, &slot.location))
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = (&ValueName, &RegValue)> {
        self.values.values().map(|slot| (&slot.name, &slot.value))
    }

    /// The direct subkeys in creation order.
    pub fn subkeys(&self) -> impl Iterator<Item = &RegKey> {
        self.subkeys.values()
    }

    /// A direct subkey by name, case-insensitively.
    pub fn subkey(&self, name: &str) -> Option<&RegKey> {
        self.subkeys.get(&fold_name(name))
    }

    /// Every value at or below this key as `(relative key path, value name, value,
    /// where it was set)`: the relative path is `""` for this key and e.g.
    /// `Domains\EXAMPLE.COM` below it; the name is `""` for a default value.
    /// Pre-order, insertion order.
    pub fn flatten(&self) -> Vec<FlatValue<'_>> {
        let mut out = Vec::new();
        self.flatten_into("", &mut out);
        out
    }

    fn flatten_into<'a>(&'a self, prefix: &str, out: &mut Vec<FlatValue<'a>>) {
        for slot in self.values.values() {
            out.push((
                prefix.to_owned(),
                slot.name.as_str().to_owned(),
                &slot.value,
                &slot.location,
            ));
        }
        for sub in self.subkeys.values() {
            let path = if prefix.is_empty() {
                sub.name.clone()
            } else {
                format!("{prefix}\\{}", sub.name)
            };
            sub.flatten_into(&path, out);
        }
    }
}
