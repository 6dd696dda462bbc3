-- glue-auth-sql, SQLite layout: the same tables and columns as the
-- PostgreSQL layout (Spryker's names), in SQLite's types:
--   * ids are INTEGER PRIMARY KEY (rowid aliases; no sequences);
--   * timestamps are INTEGER microseconds since the Unix epoch (UTC);
--   * booleans are INTEGER 0/1; spy_user.status is the Propel ENUM index
--     (0 active, 1 blocked, 2 deleted), as in PostgreSQL.

CREATE TABLE spy_oauth_client (
    id_oauth_client INTEGER PRIMARY KEY,
    identifier VARCHAR(1024) NOT NULL UNIQUE,
    name VARCHAR(1024) NOT NULL,
    redirect_uri VARCHAR(1024),
    secret VARCHAR(1024),
    is_confidential BOOLEAN
);

CREATE TABLE spy_stock (
    id_stock INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    is_active BOOLEAN DEFAULT 1,
    uuid VARCHAR(255) UNIQUE
);

CREATE TABLE spy_user (
    id_user INTEGER PRIMARY KEY,
    first_name VARCHAR(45) NOT NULL,
    last_name VARCHAR(255) NOT NULL,
    username VARCHAR(45) NOT NULL UNIQUE,
    password VARCHAR(255) NOT NULL,
    last_login INTEGER,
    status SMALLINT NOT NULL DEFAULT 0,
    is_warehouse_user BOOLEAN,
    uuid VARCHAR(36) UNIQUE,
    created_at INTEGER,
    updated_at INTEGER
);

CREATE TABLE spy_warehouse_user_assignment (
    id_warehouse_user_assignment INTEGER PRIMARY KEY,
    uuid VARCHAR(255) UNIQUE,
    fk_warehouse INTEGER NOT NULL REFERENCES spy_stock (id_stock),
    user_uuid VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER,
    updated_at INTEGER,
    UNIQUE (fk_warehouse, user_uuid)
);
CREATE INDEX "spy_warehouse_user_assignment-fk_warehouse" ON spy_warehouse_user_assignment (fk_warehouse);
CREATE UNIQUE INDEX "glue_warehouse_user_assignment-one-active" ON spy_warehouse_user_assignment (user_uuid) WHERE is_active;

CREATE TABLE spy_oauth_refresh_token (
    id_oauth_refresh_token INTEGER PRIMARY KEY,
    identifier VARCHAR(128) NOT NULL,
    scopes VARCHAR(1024),
    customer_reference VARCHAR(255),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    created_at INTEGER,
    updated_at INTEGER,
    glue_family CHAR(32)
);
CREATE UNIQUE INDEX "index-spy_oauth_refresh_token-identifier" ON spy_oauth_refresh_token (identifier);
CREATE INDEX "index-spy_oauth_refresh_token-user_identifier" ON spy_oauth_refresh_token (user_identifier);
CREATE INDEX "glue_oauth_refresh_token-family" ON spy_oauth_refresh_token (glue_family);

CREATE TABLE spy_oauth_access_token (
    id_oauth_access_token INTEGER PRIMARY KEY,
    identifier VARCHAR(3024) NOT NULL,
    scopes VARCHAR(1024),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expirity_date INTEGER NOT NULL,
    created_at INTEGER,
    updated_at INTEGER
);
CREATE INDEX "glue_oauth_access_token-expirity_date" ON spy_oauth_access_token (expirity_date);
