//! Runs the hyper picking-list example on `127.0.0.1`.
//!
//! `hyper-picking [--port N] [--private-key PATH]`; also `PORT` and
//! `GLUE_PRIVATE_KEY`. Port 0 picks a free port; the bound address is printed
//! as `listening on http://ADDR`.
//!
//! The private key signs the tokens of `POST /token` and
//! `POST /warehouse-tokens`; its public half validates every request.

use std::process::ExitCode;

use glue_auth_token::SigningKey;

fn main() -> ExitCode {
    let (port, key_path) = match args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}\nusage: hyper-picking [--port N] [--private-key PATH]");
            return ExitCode::from(2);
        }
    };
    let key = match std::fs::read(&key_path)
        .map_err(|e| e.to_string())
        .and_then(|pem| SigningKey::from_pem(&pem).map_err(|e| e.to_string()))
    {
        Ok(key) => key,
        Err(e) => {
            eprintln!("cannot load the private key {key_path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on http://{}", listener.local_addr()?);
        hyper_picking::serve(listener, key).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--port`/`PORT` (default 8080) and `--private-key`/`GLUE_PRIVATE_KEY`
/// (default: the workspace's test private key).
fn args() -> Result<(u16, String), String> {
    let mut port = std::env::var("PORT").ok();
    let mut key = std::env::var("GLUE_PRIVATE_KEY").ok();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            "--port" => &mut port,
            "--private-key" => &mut key,
            other => return Err(format!("unknown argument {other:?}")),
        };
        *slot = Some(it.next().ok_or_else(|| format!("{arg} needs a value"))?);
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("invalid port {p:?}"))?,
        None => 8080,
    };
    let key = key.unwrap_or_else(|| hyper_picking::DEFAULT_PRIVATE_KEY.to_owned());
    Ok((port, key))
}
