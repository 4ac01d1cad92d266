//! `dispatch`: sign + verify of a 1 KiB message through the loaded plugin, the
//! same package built in, and a direct call of the package's own Rust code.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sspi_core::{
    AscReq, ClientHandshake, CredentialUse, Credentials, CredentialsRequest, EstablishedContext,
    LegInput, PackageFactory, PackageParameters, Parameter, ParameterValue, Qop, SecBuffer,
    SecBufferRef, SecurityPackage, ServerHandshake, StepOutcome,
};
use sspi_package_test::{TestEstablished, TestPackageFactory};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, established, registry_text};
use std::hint::black_box;

fn through_host(providers: &str) -> (RegistryFile, loopback::CompletedHandshake) {
    let registry = RegistryFile::new(&registry_text(providers, 3, false));
    let host = registry.host();
    let done = established(&host);
    (registry, done)
}

/// The package's own types, driven without the ABI or the host.
fn direct() -> (TestEstablished, TestEstablished) {
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
    // The three-leg handshake: hello, challenge, proof.
    let client = client_cred.new_client_context(None, ISC_REQ).unwrap();
    let server = server_cred.new_server_context(AscReq(ASC_REQ.0)).unwrap();
    let (StepOutcome::Continue(client), hello, false) =
        client.initialize(LegInput::new(&[])).unwrap().into_parts()
    else {
        panic!("the client sends the hello and continues");
    };
    let (StepOutcome::Continue(server), challenge, false) = server
        .accept(LegInput::new(&[SecBufferRef::token(&hello)]))
        .unwrap()
        .into_parts()
    else {
        panic!("the server sends the challenge and continues");
    };
    let (StepOutcome::Done(client), proof, false) = client
        .initialize(LegInput::new(&[SecBufferRef::token(&challenge)]))
        .unwrap()
        .into_parts()
    else {
        panic!("the client sends the proof and is done");
    };
    let (StepOutcome::Done(server), _, false) = server
        .accept(LegInput::new(&[SecBufferRef::token(&proof)]))
        .unwrap()
        .into_parts()
    else {
        panic!("the server is done");
    };
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
            plugin
                .client
                .make_signature(Qop::DEFAULT, &mut message, 0)
                .unwrap();
            black_box(plugin.server.verify_signature(&mut message, 0).unwrap());
        })
    });

    let (_builtin_registry, mut builtin) = through_host("builtin:test");
    group.bench_function("sign_verify_1KiB/builtin", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            builtin
                .client
                .make_signature(Qop::DEFAULT, &mut message, 0)
                .unwrap();
            black_box(builtin.server.verify_signature(&mut message, 0).unwrap());
        })
    });

    let (mut client, mut server) = direct();
    group.bench_function("sign_verify_1KiB/direct", |b| {
        b.iter(|| {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            client
                .make_signature(Qop::DEFAULT, &mut message, 0)
                .unwrap();
            black_box(server.verify_signature(&mut message, 0).unwrap());
        })
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
