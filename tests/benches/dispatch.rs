//! `dispatch`: sign + verify of a 1 KiB message through the loaded plugin, the
//! same package built in, and a direct call of the package's own Rust code.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sspi_core::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, PackageFactory, PackageParameters,
    Parameter, ParameterValue, SecBuffer, SecurityContext, SecurityPackage,
};
use sspi_package_test::{TestContext, TestPackageFactory};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, established, registry_text};
use std::hint::black_box;

fn through_host(providers: &str) -> (RegistryFile, loopback::Established) {
    let registry = RegistryFile::new(&registry_text(providers, 3, false));
    let host = registry.host();
    let done = established(&host);
    (registry, done)
}

/// The package's own types, driven without the ABI or the host.
fn direct() -> (TestContext, TestContext) {
    let param = |key: &str, name: &str, value| Parameter {
        key: key.into(),
        name: name.into(),
        value,
        origin: "bench".into(),
    };
    let params = PackageParameters {
        key_path: "bench".into(),
        entries: vec![
            param("", "Legs", ParameterValue::Dword(3)),
            param("", "DefaultDomain", ParameterValue::Sz("SSPI-PLUG".into())),
            param("", "DefaultUser", ParameterValue::Sz("alice".into())),
            param(
                r"Users\alice",
                "Password",
                ParameterValue::Sz("alice-password".into()),
            ),
        ]
        .into(),
    };
    let package = TestPackageFactory::open(&params).unwrap();
    let request = |credential_use| CredentialsRequest {
        principal: None.into(),
        credential_use,
        auth_identity: None.into(),
    };
    let client_cred = package
        .acquire_credentials_handle(request(CredentialUse::OUTBOUND))
        .unwrap();
    let server_cred = package
        .acquire_credentials_handle(request(CredentialUse::INBOUND))
        .unwrap();
    let mut client = client_cred.new_client_context(None, ISC_REQ).unwrap();
    let mut server = server_cred.new_server_context(AscReq(ASC_REQ.0)).unwrap();
    let mut token = Vec::new();
    for call in 0..4 {
        let mut out = vec![0u8; 1024];
        let mut output = [SecBuffer::token(&mut out)];
        let mut input_token = token.clone();
        let mut input = [SecBuffer::token(&mut input_token)];
        let input: &mut [SecBuffer<'_>] = if call == 0 { &mut [] } else { &mut input };
        if call % 2 == 0 {
            client
                .initialize_security_context(input, &mut output)
                .unwrap();
        } else {
            server.accept_security_context(input, &mut output).unwrap();
        }
        token = output[0].as_slice().to_vec();
    }
    assert!(client.is_established() && server.is_established());
    (client, server)
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Bytes(1024));
    let mut data = vec![0xA5u8; 1024];
    let mut signature = vec![0u8; 64];

    let (_plugin_registry, mut plugin) = through_host("sspi_test.dll");
    group.bench_function("sign_verify_1KiB/plugin", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            plugin.client.make_signature(0, &mut message, 0).unwrap();
            black_box(plugin.server.verify_signature(&mut message, 0).unwrap());
        })
    });

    let (_builtin_registry, mut builtin) = through_host("builtin:test");
    group.bench_function("sign_verify_1KiB/builtin", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            builtin.client.make_signature(0, &mut message, 0).unwrap();
            black_box(builtin.server.verify_signature(&mut message, 0).unwrap());
        })
    });

    let (mut client, mut server) = direct();
    group.bench_function("sign_verify_1KiB/direct", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            client.make_signature(0, &mut message, 0).unwrap();
            black_box(server.verify_signature(&mut message, 0).unwrap());
        })
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
