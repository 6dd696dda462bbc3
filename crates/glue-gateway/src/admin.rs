//! Admin subcommands: users, warehouse assignments, refresh tokens, on the
//! database the gateway is configured with (same settings, same data
//! directory). Nothing secret is ever printed: no passwords, hashes or
//! tokens (refresh tokens appear as an 8-digit prefix of their SHA-256).

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;

use std::sync::Arc;

use clap::{Args, Subcommand};
use glue_auth_core::{NumericDate, Principal};
use glue_auth_sql::{NewUser, NewWarehouse, SqlError, SqlStore, TokenFilter};
use glue_auth_token::store::{
    Assignment, AssignmentFilter, AssignmentRefusal, NewAssignment, StoreError, WarehouseRef,
};

use crate::assignments::{Assignments, Caller, Failure};

use crate::config::{DatabaseUrl, Settings};
use crate::stores::{OpenError, connect_sql};

/// Exit code when the operation failed (not found, conflict, database down).
const EXIT_FAILED: u8 = 1;
/// Exit code for usage and configuration errors.
const EXIT_USAGE: u8 = 2;

/// Administration subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Back Office users (spy_user).
    #[command(subcommand)]
    User(UserCommand),
    /// Warehouses and warehouse assignments (spy_stock,
    /// spy_warehouse_user_assignment).
    #[command(subcommand)]
    Warehouse(WarehouseCommand),
    /// Refresh tokens (spy_oauth_refresh_token); never shows the tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// Where a password comes from.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct PasswordSource {
    /// Read the password from the first line of standard input (preferred).
    #[arg(long)]
    password_stdin: bool,
    /// The password (visible in `ps` and shell history: prefer --password-stdin).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
}

/// `user …`
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Creates an active Back Office user (password stored as bcrypt `$2y$`).
    Add {
        /// Username (Spryker uses the e-mail address; at most 45 characters).
        username: String,
        #[command(flatten)]
        password: PasswordSource,
        /// Accept a password outside Spryker's policy of 12 to 128
        /// characters (at least 1): for demos only.
        #[arg(long)]
        relax_password_policy: bool,
        /// A warehouse user: tokens get `warehouse-user` instead of
        /// `back-office-user`.
        #[arg(long)]
        warehouse_user: bool,
        /// First name.
        #[arg(long, default_value = "")]
        first_name: String,
        /// Last name.
        #[arg(long, default_value = "")]
        last_name: String,
    },
    /// Blocks a user: logins, warehouse-token exchanges and refreshes are
    /// refused from now on (issued access tokens still pass the bearer layer
    /// until they expire; on our own schema they never exchange again, even
    /// after `unblock`).
    Block {
        /// Username.
        username: String,
    },
    /// Makes a blocked user active again.
    Unblock {
        /// Username.
        username: String,
    },
    /// Replaces a user's password; on our own schema the user's earlier
    /// tokens no longer exchange for warehouse tokens or refresh.
    SetPassword {
        /// Username.
        username: String,
        #[command(flatten)]
        password: PasswordSource,
        /// Accept a password outside Spryker's policy of 12 to 128
        /// characters (at least 1): for demos only.
        #[arg(long)]
        relax_password_policy: bool,
    },
}

/// `warehouse …`
#[derive(Debug, Subcommand)]
pub(crate) enum WarehouseCommand {
    /// Creates a warehouse user's assignment to a warehouse, active (the
    /// user's others are deactivated: `POST /warehouse-tokens` then issues
    /// tokens for this warehouse) unless --inactive; activates it when it
    /// exists. Glue's rules: the user must be a warehouse user (`user add
    /// --warehouse-user`).
    Assign {
        /// Username.
        username: String,
        /// `id_stock` of the warehouse.
        id_warehouse: i64,
        /// Create it inactive (or deactivate it).
        #[arg(long)]
        inactive: bool,
    },
    /// Lists assignments: uuid, user uuid, warehouse id, uuid and name,
    /// active.
    Assignments {
        /// Only this user's.
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
        /// Only this warehouse's (`id_stock`).
        #[arg(long, value_name = "ID")]
        warehouse: Option<i64>,
        /// Only active (true) or inactive (false) ones.
        #[arg(long, value_name = "BOOL")]
        active: Option<bool>,
    },
    /// Makes an assignment the user's active one (deactivating the others).
    Activate {
        /// The assignment's uuid.
        uuid: String,
    },
    /// Deactivates an assignment: the next `POST /warehouse-tokens` of its
    /// user is refused (403 5101); issued warehouse tokens stay valid until
    /// they expire.
    Deactivate {
        /// The assignment's uuid.
        uuid: String,
    },
    /// Deletes an assignment.
    Unassign {
        /// The assignment's uuid.
        uuid: String,
    },
    /// Creates a warehouse (spy_stock).
    Add {
        /// Unique name.
        name: String,
        /// `id_stock` (default: the next of the sequence).
        #[arg(long)]
        id: Option<i64>,
        /// `uuid` (default: Spryker's for the id, uuid5 of `spy_stock.<id>`).
        #[arg(long)]
        uuid: Option<String>,
    },
}

/// `tokens …`
#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// Lists refresh tokens, newest first: id, hash prefix, principal,
    /// client, created, expires, state.
    List {
        /// Only this user's tokens.
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
        /// Also spent and revoked tokens.
        #[arg(long)]
        all: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Revokes every live refresh token of a user.
    Revoke {
        /// The user.
        #[arg(long, value_name = "USERNAME")]
        user: String,
    },
}

fn read_password(src: &PasswordSource) -> Result<String, String> {
    if let Some(p) = &src.password {
        return Ok(p.clone());
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(password)
}

/// Spryker's password length policy for Back Office users.
pub(crate) const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 12..=128;

/// Checks a new password's length: Spryker's 12 to 128 characters, or with
/// `relaxed` (demos) 1 to 128.
fn check_password(password: &str, relaxed: bool) -> Result<(), String> {
    let n = password.chars().count();
    let min = if relaxed { 1 } else { *PASSWORD_CHARS.start() };
    if n < min || n > *PASSWORD_CHARS.end() {
        let hint = if relaxed {
            ""
        } else {
            " (--relax-password-policy accepts shorter ones, for demos)"
        };
        return Err(format!(
            "the password has {n} characters; Spryker's policy asks for {min} to {}{hint}",
            PASSWORD_CHARS.end()
        ));
    }
    Ok(())
}

/// RFC 3339 (UTC, seconds) of a date.
pub(crate) fn rfc3339(d: NumericDate) -> String {
    let c = crate::civil::Civil::from_unix(d.as_micros().div_euclid(1_000_000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn principal_label(p: &Principal) -> String {
    match p {
        Principal::User(u) => format!("user:{}", u.id_user()),
        Principal::Warehouse(w) => format!("warehouse:{}", w.id_warehouse()),
    }
}

fn failed(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("glue-gateway: {e}");
    ExitCode::from(EXIT_FAILED)
}

fn sql_failed(e: &SqlError) -> ExitCode {
    let code = match e {
        SqlError::Config(_) | SqlError::Invalid(_) => EXIT_USAGE,
        _ => EXIT_FAILED,
    };
    eprintln!("glue-gateway: {e}");
    ExitCode::from(code)
}

/// Runs one admin command; the exit code says how it went.
pub(crate) async fn run(settings: Settings, command: Command) -> ExitCode {
    let url = match &settings.database.url {
        DatabaseUrl::Sqlite(u) | DatabaseUrl::Server(u) => u.clone(),
        other => {
            eprintln!(
                "glue-gateway: the admin commands need a database; the configured store is {other} \
                 (set database_url, or leave it unset for the SQLite file in the data directory)"
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Read the password before connecting: a prompt-less stdin pipe should
    // fail fast, and nothing is written when it does.
    let password = match &command {
        Command::User(UserCommand::Add {
            password,
            relax_password_policy,
            ..
        })
        | Command::User(UserCommand::SetPassword {
            password,
            relax_password_policy,
            ..
        }) => {
            match read_password(password)
                .and_then(|p| check_password(&p, *relax_password_policy).map(|()| p))
            {
                Ok(p) => Some(p),
                Err(e) => {
                    eprintln!("glue-gateway: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        }
        _ => None,
    };
    // Never seed the demo user (with its published password) from here: an
    // admin command on a fresh database would create it silently.
    let mut database = settings.database.clone();
    database.seed_demo = Some(false);
    let store = match connect_sql(&database, &url).await {
        Ok(s) => s,
        Err(OpenError::Config(e)) => {
            eprintln!("glue-gateway: configuration error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(OpenError::Database(e)) => return failed(&e),
    };
    let result = execute(&store, command, password).await;
    store.close().await;
    match result {
        Ok(lines) => {
            let mut out = std::io::stdout().lock();
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(AdminError::Sql(e)) => sql_failed(&e),
        Err(AdminError::Refused(why)) => failed(&why),
    }
}

/// Why an admin command failed.
#[derive(Debug)]
enum AdminError {
    Sql(SqlError),
    /// Glue's rules refused an assignment change.
    Refused(String),
}

impl From<SqlError> for AdminError {
    fn from(e: SqlError) -> Self {
        AdminError::Sql(e)
    }
}

async fn execute(
    store: &SqlStore,
    command: Command,
    password: Option<String>,
) -> Result<Vec<String>, AdminError> {
    let password = password.unwrap_or_default();
    Ok(match command {
        Command::User(UserCommand::Add {
            username,
            warehouse_user,
            first_name,
            last_name,
            ..
        }) => {
            let user = NewUser::new(username, password)
                .names(first_name, last_name)
                .warehouse_user(warehouse_user);
            let added = store.add_user(user).await?;
            vec![format!(
                "added user {} (id_user {}, uuid {}{})",
                added.username,
                added.id_user,
                added.uuid,
                if added.is_warehouse_user {
                    ", warehouse user"
                } else {
                    ""
                }
            )]
        }
        Command::User(UserCommand::Block { username }) => {
            store.block_user(&username).await?;
            vec![format!(
                "blocked user {username} (issued access tokens stay valid until they expire; \
                 `tokens revoke --user {username}` stops refreshes)"
            )]
        }
        Command::User(UserCommand::Unblock { username }) => {
            store.unblock_user(&username).await?;
            vec![format!("unblocked user {username}")]
        }
        Command::User(UserCommand::SetPassword { username, .. }) => {
            store.set_password(&username, &password).await?;
            vec![format!("password of {username} changed")]
        }
        Command::Warehouse(WarehouseCommand::Add { name, id, uuid }) => {
            let mut w = NewWarehouse::new(&name);
            if let Some(id) = id {
                w = w.id(id);
            }
            if let Some(uuid) = uuid {
                w = w.uuid(uuid);
            }
            let id = store.add_warehouse(w).await?;
            vec![format!("added warehouse {name} (id_stock {id})")]
        }
        Command::Warehouse(command) => match warehouse(store, command).await {
            Ok(lines) => lines,
            Err(Failure::Store(e)) => return Err(AdminError::Sql(SqlError::from(e))),
            Err(f) => return Err(AdminError::Refused(refusal_text(&f))),
        },
        Command::Tokens(TokensCommand::List { user, all, limit }) => {
            let filter = match user {
                Some(u) => TokenFilter::user(u),
                None => TokenFilter::all(),
            }
            .include_revoked(all)
            .limit(limit);
            let now = NumericDate::now();
            let tokens = store.list_refresh_tokens(&filter).await?;
            let mut lines = vec!["id\thash\tprincipal\tclient\tcreated\texpires\tstate".to_owned()];
            for t in tokens {
                let state = match t.revoked_at {
                    Some(_) => "revoked",
                    None if t.expires_at <= now => "expired",
                    None => "live",
                };
                lines.push(format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.hash_prefix,
                    principal_label(&t.principal),
                    t.client_id,
                    t.created_at.map(rfc3339).unwrap_or_else(|| "-".into()),
                    rfc3339(t.expires_at),
                    state
                ));
            }
            lines
        }
        Command::Tokens(TokensCommand::Revoke { user }) => {
            let n = store.revoke_user_refresh_tokens(&user).await?;
            vec![format!("revoked {n} refresh token(s) of {user}")]
        }
    })
}

/// What a refused assignment command prints (Glue's codes and messages).
fn refusal_text(f: &Failure) -> String {
    let list: Vec<String> = match f {
        Failure::NotFound => vec![AssignmentRefusal::NotFound.to_string()],
        Failure::Forbidden => vec![AssignmentRefusal::Forbidden.to_string()],
        Failure::Refused(list) => list.iter().map(ToString::to_string).collect(),
        Failure::Store(e) => vec![e.to_string()],
    };
    format!("refused: {}", list.join("; "))
}

fn assignment_line(a: &Assignment) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        a.uuid,
        a.user_uuid,
        a.warehouse.id_warehouse,
        a.warehouse.uuid,
        a.warehouse.name,
        if a.is_active { "active" } else { "inactive" }
    )
}

async fn user_uuid(store: &SqlStore, name: &str) -> Result<String, Failure> {
    match store.user(name).await {
        Ok(Some(u)) => Ok(u.uuid),
        Ok(None) => Err(Failure::Refused(vec![AssignmentRefusal::UserNotFound])),
        Err(e) => Err(Failure::Store(StoreError::unavailable(e))),
    }
}

async fn warehouse_uuid(rules: &Assignments, id: i64) -> Result<String, Failure> {
    match rules.store().find_warehouse(WarehouseRef::Id(id)).await? {
        Some(w) => Ok(w.uuid),
        None => Err(Failure::Refused(vec![AssignmentRefusal::WarehouseNotFound])),
    }
}

/// The assignment commands: the same store calls and rules as
/// `/warehouse-user-assignments` ([`crate::assignments`]), as the operator.
async fn warehouse(store: &SqlStore, command: WarehouseCommand) -> Result<Vec<String>, Failure> {
    let rules = Assignments::new(Arc::new(store.clone()), None);
    let op = Caller::Operator;
    Ok(match command {
        WarehouseCommand::Assign {
            username,
            id_warehouse,
            inactive,
        } => {
            let user = user_uuid(store, &username).await?;
            let wh = warehouse_uuid(&rules, id_warehouse).await?;
            let existing = rules
                .list(
                    &op,
                    AssignmentFilter::all().user_uuid(&user).warehouse_uuid(&wh),
                )
                .await?;
            let a = match existing.first() {
                Some(a) => rules.set_active(&op, &a.uuid, !inactive).await?,
                None => {
                    let new = NewAssignment::new(&user, &wh).active(!inactive);
                    rules.create(&op, new).await?
                }
            };
            vec![format!(
                "user {username} assigned to warehouse {id_warehouse} ({}), assignment {}{}",
                a.warehouse.name,
                a.uuid,
                if a.is_active {
                    " (its only active assignment)"
                } else {
                    ", inactive"
                }
            )]
        }
        WarehouseCommand::Assignments {
            user,
            warehouse,
            active,
        } => {
            let mut filter = AssignmentFilter::all();
            if let Some(name) = user {
                filter = filter.user_uuid(user_uuid(store, &name).await?);
            }
            if let Some(id) = warehouse {
                filter = filter.warehouse_uuid(warehouse_uuid(&rules, id).await?);
            }
            if let Some(active) = active {
                filter = filter.is_active(active);
            }
            let mut lines =
                vec!["uuid\tuser_uuid\tid_warehouse\twarehouse_uuid\twarehouse\tstate".to_owned()];
            lines.extend(rules.list(&op, filter).await?.iter().map(assignment_line));
            lines
        }
        WarehouseCommand::Activate { uuid } => {
            let a = rules.set_active(&op, &uuid, true).await?;
            vec![format!("activated {}", assignment_line(&a))]
        }
        WarehouseCommand::Deactivate { uuid } => {
            let a = rules.set_active(&op, &uuid, false).await?;
            vec![format!(
                "deactivated {} (issued warehouse tokens stay valid until they expire)",
                assignment_line(&a)
            )]
        }
        WarehouseCommand::Unassign { uuid } => {
            let a = rules.delete(&op, &uuid).await?;
            vec![format!("deleted {}", assignment_line(&a))]
        }
        WarehouseCommand::Add { .. } => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(NumericDate::from_micros(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(NumericDate::from_micros(1_709_251_199_000_000)),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(
            rfc3339(NumericDate::from_micros(951_782_400_000_000)),
            "2000-02-29T00:00:00Z"
        );
    }
}
