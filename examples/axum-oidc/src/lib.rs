//! An axum service that accepts **two kinds of tokens** through one
//! [`BearerAuthLayer`]:
//!
//! - Glue tokens from the gateway (no `iss`), checked against the keys the
//!   gateway publishes at `/.well-known/jwks.json` (followed: a rotation on
//!   the gateway needs nothing here);
//! - tokens of an OpenID Connect provider (`iss` = the provider), whose keys
//!   are found through `/.well-known/openid-configuration`; only tokens for
//!   our audience, signed with RS256 or ES256, are accepted, and the
//!   provider's `glue_id_user` claim says which Back Office user the person
//!   is (its `sub` becomes the user's uuid).
//!
//! `GET /me` answers who the caller is and which issuer vouched for them.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = axum_oidc::Settings {
//!     glue_jwks_url: "http://gateway:8080/.well-known/jwks.json".into(),
//!     oidc_issuer: "http://idp:8081/realms/shop".into(),
//!     audience: "glue-backend".into(),
//! };
//! let (app, _sources) = axum_oidc::app(&settings)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use glue_auth_bearer::sources::{KeySource, SourceError};
use glue_auth_bearer::{Algorithm, Algorithms, BearerAuthLayer, Issuer, SubjectMapping, Validator};
use glue_auth_core::{Claims, Principal};

/// Where the keys come from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Glue gateway's JWK Set (`http://…/.well-known/jwks.json`).
    pub glue_jwks_url: String,
    /// The OIDC provider's issuer (`iss`), e.g. `http://idp/realms/shop`.
    pub oidc_issuer: String,
    /// Our client id at the provider: tokens must name it in `aud`.
    pub audience: String,
}

/// The two key sources (for their state: `loads()`, `last_error()`).
#[derive(Debug, Clone)]
pub struct Sources {
    /// Glue's keys, from the gateway.
    pub glue: KeySource,
    /// The provider's keys, from discovery.
    pub oidc: KeySource,
}

/// The router with the bearer layer, and its key sources. Needs a Tokio
/// runtime (the sources fetch in the background).
pub fn app(settings: &Settings) -> Result<(Router, Sources), SourceError> {
    let glue = KeySource::jwks_url(&settings.glue_jwks_url)?
        .cooldown(Duration::from_secs(10))
        .spawn()?;
    let oidc = KeySource::oidc_discovery(&settings.oidc_issuer)?
        .cooldown(Duration::from_secs(10))
        .spawn()?;
    let validator = Validator::builder(glue.key_set())
        .issuer(
            Issuer::new(&settings.oidc_issuer, oidc.key_set())
                .audiences([settings.audience.as_str()])
                .algorithms(Algorithms::from_iter([Algorithm::RS256, Algorithm::ES256]))
                .subject(SubjectMapping::user("glue_id_user")),
        )
        .build()
        .expect("the settings above are valid");
    let router = Router::new()
        .route("/me", get(me))
        .layer(BearerAuthLayer::new(validator));
    Ok((router, Sources { glue, oidc }))
}

/// Who is calling: anonymous callers get 401 from the `Claims` extractor.
async fn me(claims: Claims) -> axum::Json<serde_json::Value> {
    let who = match claims.principal() {
        Principal::User(u) => serde_json::json!({"id_user": u.id_user(), "uuid": u.uuid()}),
        Principal::Warehouse(w) => serde_json::json!({"id_warehouse": w.id_warehouse()}),
    };
    axum::Json(serde_json::json!({
        "principal": who,
        "issuer": claims.issuer().unwrap_or("glue"),
        "scopes": claims.scopes().iter().collect::<Vec<_>>(),
    }))
}
