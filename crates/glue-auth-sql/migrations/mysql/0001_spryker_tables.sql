-- glue-auth-sql, MariaDB/MySQL, "own schema" layout: the Spryker tables the
-- Glue Backend API authentication reads and writes, with Spryker's table and
-- column names and the types Propel gives them on MySQL (INTEGER/BIGINT ids
-- with AUTO_INCREMENT, TINYINT(1) booleans, the status ENUM as its TINYINT
-- index), so that Spryker tooling and hand-written SQL work unchanged.
--
-- Differences from a Spryker install (all additive or stricter):
--   * timestamps are DATETIME(6) (Propel: DATETIME, whole seconds), in UTC,
--     written and read as plain arithmetic on the epoch: independent of the
--     session and server time_zone;
--   * tables are utf8mb4 (Spryker's databases: utf8), so the unique index
--     on spy_oauth_client.identifier and the indexes on the long
--     user_identifier / fk_oauth_client columns cover their first 255
--     characters (InnoDB's key length limit);
--   * spy_oauth_refresh_token.glue_family (rotation family, ours);
--   * spy_oauth_refresh_token.identifier is UNIQUE (Spryker: plain index);
--   * at most one active assignment per user is enforced by a unique index
--     on a generated column (glue_active_user_uuid: user_uuid while active,
--     else NULL; MySQL has no partial indexes; Spryker enforces it in PHP);
--   * no foreign key from fk_oauth_client to spy_oauth_client.identifier.

CREATE TABLE spy_oauth_client (
    id_oauth_client INTEGER NOT NULL AUTO_INCREMENT,
    identifier VARCHAR(1024) NOT NULL,
    name VARCHAR(1024) NOT NULL,
    redirect_uri VARCHAR(1024),
    secret VARCHAR(1024),
    is_confidential TINYINT(1),
    PRIMARY KEY (id_oauth_client),
    UNIQUE INDEX `spy_oauth_client-identifier` (identifier(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE spy_stock (
    id_stock INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) NOT NULL,
    is_active TINYINT(1) DEFAULT 1,
    uuid VARCHAR(255),
    PRIMARY KEY (id_stock),
    UNIQUE INDEX `spy_stock-name` (name),
    UNIQUE INDEX `spy_stock-unique-uuid` (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE spy_user (
    id_user INTEGER NOT NULL AUTO_INCREMENT,
    first_name VARCHAR(45) NOT NULL,
    last_name VARCHAR(255) NOT NULL,
    username VARCHAR(45) NOT NULL,
    password VARCHAR(255) NOT NULL,
    last_login DATETIME(6),
    -- Propel ENUM: the index in valueSet "active,blocked,deleted".
    status TINYINT NOT NULL DEFAULT 0,
    is_warehouse_user TINYINT(1),
    uuid VARCHAR(36),
    created_at DATETIME(6),
    updated_at DATETIME(6),
    PRIMARY KEY (id_user),
    UNIQUE INDEX `spy_user-username` (username),
    UNIQUE INDEX `spy_user-unique-uuid` (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE spy_warehouse_user_assignment (
    id_warehouse_user_assignment INTEGER NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(255),
    fk_warehouse INTEGER NOT NULL,
    user_uuid VARCHAR(255) NOT NULL,
    is_active TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME(6),
    updated_at DATETIME(6),
    glue_active_user_uuid VARCHAR(255) AS (CASE WHEN is_active THEN user_uuid END) STORED,
    PRIMARY KEY (id_warehouse_user_assignment),
    UNIQUE INDEX `spy_warehouse_user_assignment-unique-uuid` (uuid),
    UNIQUE INDEX `spy_warehouse_user_assignment-unique-fk_w-u` (fk_warehouse, user_uuid),
    UNIQUE INDEX `glue_warehouse_user_assignment-one-active` (glue_active_user_uuid),
    INDEX `spy_warehouse_user_assignment-fk_warehouse` (fk_warehouse),
    CONSTRAINT `spy_warehouse_user_assignment-fk_w` FOREIGN KEY (fk_warehouse) REFERENCES spy_stock (id_stock)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE spy_oauth_refresh_token (
    id_oauth_refresh_token BIGINT NOT NULL AUTO_INCREMENT,
    identifier VARCHAR(128) NOT NULL,
    scopes VARCHAR(1024),
    customer_reference VARCHAR(255),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6),
    created_at DATETIME(6),
    updated_at DATETIME(6),
    glue_family CHAR(32),
    PRIMARY KEY (id_oauth_refresh_token),
    UNIQUE INDEX `index-spy_oauth_refresh_token-identifier` (identifier),
    INDEX `index-spy_oauth_refresh_token-customer_reference` (customer_reference),
    INDEX `index-spy_oauth_refresh_token-fk_oauth_client` (fk_oauth_client(255)),
    INDEX `index-spy_oauth_refresh_token-user_identifier` (user_identifier(255)),
    INDEX `glue_oauth_refresh_token-family` (glue_family)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE spy_oauth_access_token (
    id_oauth_access_token INTEGER NOT NULL AUTO_INCREMENT,
    identifier VARCHAR(3024) NOT NULL,
    scopes VARCHAR(1024),
    user_identifier VARCHAR(1024) NOT NULL,
    fk_oauth_client VARCHAR(1024) NOT NULL,
    expirity_date DATETIME(6) NOT NULL,
    created_at DATETIME(6),
    updated_at DATETIME(6),
    PRIMARY KEY (id_oauth_access_token),
    INDEX `glue_oauth_access_token-expirity_date` (expirity_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
