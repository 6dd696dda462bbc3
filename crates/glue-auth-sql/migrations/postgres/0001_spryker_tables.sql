-- glue-auth-sql, PostgreSQL, "own schema" layout: the Spryker tables the
-- Glue Backend API authentication reads and writes, with Spryker's table,
-- column and sequence names and Spryker's (Propel) column types, so that
-- Spryker tooling and hand-written SQL work unchanged.
--
-- Differences from a Spryker install (all additive):
--   * ids also have a DEFAULT nextval(...) (Propel calls nextval itself);
--   * spy_oauth_refresh_token.glue_family (rotation family, ours);
--   * spy_oauth_refresh_token.identifier is UNIQUE (Spryker: plain index);
--   * at most one active assignment per user is enforced by a partial
--     unique index (Spryker enforces it in PHP);
--   * no foreign key from fk_oauth_client to spy_oauth_client.identifier.
-- Timestamps are TIMESTAMP (without time zone) in UTC.

CREATE SEQUENCE spy_oauth_client_pk_seq;
CREATE TABLE spy_oauth_client (
    id_oauth_client INTEGER NOT NULL DEFAULT nextval('spy_oauth_client_pk_seq') PRIMARY KEY,
    identifier VARCHAR(1024) NOT NULL,
    name VARCHAR(1024) NOT NULL,
    redirect_uri VARCHAR(1024),
    secret VARCHAR(1024),
    is_confidential BOOLEAN,
    CONSTRAINT "spy_oauth_client-identifier" UNIQUE (identifier)
);

CREATE SEQUENCE spy_stock_pk_seq;
CREATE TABLE spy_stock (
    id_stock INTEGER NOT NULL DEFAULT nextval('spy_stock_pk_seq') PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    is_active BOOLEAN DEFAULT true,
    uuid VARCHAR(255),
    CONSTRAINT "spy_stock-name" UNIQUE (name),
    CONSTRAINT "spy_stock-unique-uuid" UNIQUE (uuid)
);

CREATE SEQUENCE spy_user_pk_seq;
CREATE TABLE spy_user (
    id_user INTEGER NOT NULL DEFAULT nextval('spy_user_pk_seq') PRIMARY KEY,
    first_name VARCHAR(45) NOT NULL,
    last_name VARCHAR(255) NOT NULL,
    username VARCHAR(45) NOT NULL,
    password VARCHAR(255) NOT NULL,
    last_login TIMESTAMP,
    -- Propel ENUM: the index in valueSet "active,blocked,deleted".
    status SMALLINT NOT NULL DEFAULT 0,
    is_warehouse_user BOOLEAN,
    uuid VARCHAR(36),
    created_at TIMESTAMP,
    updated_at TIMESTAMP,
    CONSTRAINT "spy_user-username" UNIQUE (username),
    CONSTRAINT "spy_user-unique-uuid" UNIQUE (uuid)
);

CREATE SEQUENCE spy_warehouse_user_assignment_pk_seq;
CREATE TABLE spy_warehouse_user_assignment (
    id_warehouse_user_assignment INTEGER NOT NULL DEFAULT nextval('spy_warehouse_user_assignment_pk_seq') PRIMARY KEY,
    uuid VARCHAR(255),
    fk_warehouse INTEGER NOT NULL,
    user_uuid VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP,
    updated_at TIMESTAMP,
    CONSTRAINT "spy_warehouse_user_assignment-unique-uuid" UNIQUE (uuid),
    CONSTRAINT "spy_warehouse_user_assignment-unique-fk_w-u" UNIQUE (fk_warehouse, user_uuid),
    CONSTRAINT "spy_warehouse_user_assignment-fk_w" FOREIGN KEY (fk_warehouse) REFERENCES spy_stock (id_stock)
);
CREATE INDEX "spy_warehouse_user_assignment-fk_warehouse" ON spy_warehouse_user_assignment (fk_warehouse);
CREATE UNIQUE INDEX "glue_warehouse_user_assignment-one-active" ON spy_warehouse_user_assignment (user_uuid) WHERE is_active;

CREATE SEQUENCE spy_oauth_refresh_token_pk_seq;
CREATE TABLE spy_oauth_refresh_token (
    id_oauth_refresh_token BIGINT NOT NULL DEFAULT nextval('spy_oauth_refresh_token_pk_seq') PRIMARY KEY,
    identifier VARCHAR(128) NOT NULL,
    scopes VARCHAR(1024),
    customer_reference VARCHAR(255),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP,
    updated_at TIMESTAMP,
    glue_family CHAR(32)
);
CREATE UNIQUE INDEX "index-spy_oauth_refresh_token-identifier" ON spy_oauth_refresh_token (identifier);
CREATE INDEX "index-spy_oauth_refresh_token-customer_reference" ON spy_oauth_refresh_token (customer_reference);
CREATE INDEX "index-spy_oauth_refresh_token-fk_oauth_client" ON spy_oauth_refresh_token (fk_oauth_client);
CREATE INDEX "index-spy_oauth_refresh_token-user_identifier" ON spy_oauth_refresh_token (user_identifier);
CREATE INDEX "glue_oauth_refresh_token-family" ON spy_oauth_refresh_token (glue_family);

CREATE SEQUENCE spy_oauth_access_token_pk_seq;
CREATE TABLE spy_oauth_access_token (
    id_oauth_access_token INTEGER NOT NULL DEFAULT nextval('spy_oauth_access_token_pk_seq') PRIMARY KEY,
    identifier VARCHAR(3024) NOT NULL,
    scopes VARCHAR(1024),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expirity_date TIMESTAMP NOT NULL,
    created_at TIMESTAMP,
    updated_at TIMESTAMP
);
CREATE INDEX "glue_oauth_access_token-expirity_date" ON spy_oauth_access_token (expirity_date);
