//! A registry key as the typed parameters handed to a package (or the KDC).

use sspi_core::{PackageParameters, Parameter, ParameterValue};
use sspi_registry::{RegKey, RegValue};

/// Every value under `key` (and its subkeys), typed, with where it was set.
pub fn package_parameters(key_path: &str, key: Option<&RegKey>) -> PackageParameters {
    let mut params = PackageParameters {
        key_path: key_path.into(),
        entries: Default::default(),
    };
    let Some(key) = key else {
        return params;
    };
    for (subkey, name, value, location) in key.flatten() {
        params.entries.push(Parameter {
            key: subkey.as_str().into(),
            name: name.as_str().into(),
            value: parameter_value(value),
            origin: location.to_string().into(),
        });
    }
    params
}

fn parameter_value(value: &RegValue) -> ParameterValue {
    match value {
        RegValue::Sz(s) => ParameterValue::Sz(s.as_str().into()),
        RegValue::ExpandSz(s) => ParameterValue::ExpandSz(s.as_str().into()),
        RegValue::MultiSz(list) => {
            ParameterValue::MultiSz(list.iter().map(|s| s.as_str().into()).collect())
        }
        RegValue::Dword(d) | RegValue::DwordBigEndian(d) => ParameterValue::Dword(*d),
        RegValue::Qword(q) => ParameterValue::Qword(*q),
        RegValue::Binary(bytes) => ParameterValue::Binary(bytes.as_slice().into()),
        RegValue::Other { bytes, .. } => ParameterValue::Binary(bytes.as_slice().into()),
    }
}
