//! `loopback`: one authenticated TCP connection (connect, handshake, close)
//! with 1, 8 and 64 concurrent clients, beside the same handshake in process
//! and beside bare TCP (connect, one-byte echo, close), in one run.
//! Criterion's time per iteration is the time per handshake (wall clock over
//! a batch run by N clients at once); `sspi bench` adds p50/p99 latencies.

use criterion::{Criterion, criterion_group, criterion_main};
use sspi_connection::{ClientOptions, Server, ServerConfig};
use sspi_core::CredentialUse;
use sspi_load as load;
use sspi_tests::{RegistryFile, registry_text};
use std::sync::Arc;
use std::time::Duration;

fn loopback(c: &mut Criterion) {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 4, false));
    let host = registry.host();
    let client = Arc::new(
        host.acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
            .unwrap(),
    );
    let server_credentials = host
        .acquire_credentials_handle("Test", None, CredentialUse::INBOUND, None)
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = ServerConfig {
        max_connections: 4096,
        // Every client comes from 127.0.0.1 and handshakes at once.
        max_connections_per_peer: 4096,
        max_unauthenticated: 4096,
        ..ServerConfig::default()
    };
    let server = runtime
        .block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &host, config))
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = runtime.spawn(server.run(async {
        let _ = stopped.await;
    }));
    let options = ClientOptions::default();

    let mut group = c.benchmark_group("loopback");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("handshake/in_process", |b| {
        b.iter_custom(|iters| {
            load::in_process(&client, &server_credentials, &options, iters as usize)
                .unwrap()
                .elapsed
        })
    });
    for clients in [1usize, 8, 64] {
        group.bench_function(format!("handshake/tcp_{clients}_clients"), |b| {
            b.iter_custom(|iters| {
                runtime
                    .block_on(load::over_tcp(
                        addr,
                        Arc::clone(&client),
                        options.clone(),
                        clients,
                        iters as usize,
                    ))
                    .unwrap()
                    .elapsed
            })
        });
        group.bench_function(format!("bare_tcp/{clients}_clients"), |b| {
            b.iter_custom(|iters| {
                runtime
                    .block_on(load::bare_tcp(clients, iters as usize))
                    .unwrap()
                    .elapsed
            })
        });
    }
    group.finish();
    let _ = stop.send(());
    let _ = runtime.block_on(running);
}

criterion_group!(benches, loopback);
criterion_main!(benches);
