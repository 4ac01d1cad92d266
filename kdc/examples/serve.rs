//! Runs the KDC until Ctrl-C: `cargo run -p sspi-kdc --example serve -- REALM DATABASE [LISTEN]`
//! (LISTEN defaults to 127.0.0.1:8888). What `sspi kdc` does, without the registry.

use sspi_kdc::{KdcConfig, serve};
use std::net::SocketAddr;
use std::path::Path;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(realm), Some(database)) = (args.first(), args.get(1)) else {
        eprintln!("usage: serve REALM DATABASE [LISTEN]");
        std::process::exit(2);
    };
    let listen: SocketAddr = match args.get(2).map(|a| a.parse()) {
        None => ([127, 0, 0, 1], 8888).into(),
        Some(Ok(addr)) => addr,
        Some(Err(e)) => {
            eprintln!("invalid listen address: {e}");
            std::process::exit(2);
        }
    };
    let config = match KdcConfig::from_file(realm, Path::new(database)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    eprintln!("KDC for {realm} on {listen} (TCP and UDP); Ctrl-C stops it");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = serve(listen, config, stop).await {
        eprintln!("KDC: {e}");
        std::process::exit(1);
    }
}
