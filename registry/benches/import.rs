//! Importing large keys: one hash lookup per line, so 20,000 values in one key
//! (or 20,000 subkeys) import in linear time.

use criterion::{Criterion, criterion_group, criterion_main};
use sspi_registry::{RegFile, Registry};
use std::hint::black_box;
use std::path::Path;

fn reg_text(values: usize, subkeys: usize) -> String {
    let mut text = String::from(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Comm\\Big]\r\n",
    );
    for i in 0..values {
        text.push_str(&format!("\"Value{i}\"=dword:{i:08x}\r\n"));
    }
    for i in 0..subkeys {
        text.push_str(&format!(
            "[HKEY_LOCAL_MACHINE\\Comm\\Big\\Users\\user{i}]\r\n\"Password\"=\"p{i}\"\r\n"
        ));
    }
    text
}

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry import");
    group.sample_size(10);
    for (label, values, subkeys) in [
        ("20k values in one key", 20_000, 0),
        ("20k subkeys", 0, 20_000),
    ] {
        let file =
            RegFile::parse(reg_text(values, subkeys).as_bytes(), Path::new("big.reg")).unwrap();
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut registry = Registry::new();
                registry.apply(black_box(&file));
                registry
            })
        });
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
