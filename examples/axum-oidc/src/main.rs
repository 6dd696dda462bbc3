//! Runs the example: `axum-oidc` with `GLUE_JWKS_URL`, `OIDC_ISSUER`,
//! `OIDC_AUDIENCE` and `PORT` (default 3000) in the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let settings = axum_oidc::Settings {
        glue_jwks_url: var("GLUE_JWKS_URL"),
        oidc_issuer: var("OIDC_ISSUER"),
        audience: var("OIDC_AUDIENCE"),
    };
    let (app, _sources) = match axum_oidc::app(&settings) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("axum-oidc: {e} (set GLUE_JWKS_URL, OIDC_ISSUER, OIDC_AUDIENCE)");
            return ExitCode::from(2);
        }
    };
    let port: u16 = var("PORT").parse().unwrap_or(3000);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("axum-oidc: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("listening on http://{a}"),
        Err(e) => eprintln!("axum-oidc: {e}"),
    }
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum-oidc: {e}");
            ExitCode::FAILURE
        }
    }
}
