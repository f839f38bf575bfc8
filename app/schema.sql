-- The gateway's own records: users, API tokens, idempotency keys, partners' requests seen. The ledger holds the business data.
PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    enrollment_id TEXT UNIQUE NOT NULL,
    certificate TEXT NOT NULL,
    encrypted_key BLOB NOT NULL,           -- AES-GCM under the gateway's key-encryption key (app/keystore.py)
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE IF NOT EXISTS token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT UNIQUE NOT NULL,       -- SHA-256 of the bearer token; the token itself is never stored
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency (
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,            -- method, path and body: the same key with another request is refused
    status INTEGER,                        -- NULL while the first request is still running
    body BLOB,
    content_type TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE IF NOT EXISTS exchange_request (
    tx_id TEXT PRIMARY KEY,                -- a partner gateway's signed proposal (app/exchange.py): accepted once
    seen_at REAL NOT NULL
);

-- Public keys that users' browsers hold the private halves of (WebCrypto, non-extractable), with the certificates
-- the organisation's CA issued for them (app/browser_keys.py). No private key of a browser is ever here.
CREATE TABLE IF NOT EXISTS browser_key (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    key_id TEXT UNIQUE NOT NULL,           -- hex SHA-256 of the public key (SubjectPublicKeyInfo, DER)
    certificate TEXT NOT NULL,             -- PEM, issued by re-enrolment: same enrolment ID and role as the user
    label TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Transactions a browser key signs step by step (app/offline.py): what waits for the browser's next signature.
CREATE TABLE IF NOT EXISTS offline_transaction (
    id TEXT PRIMARY KEY,                   -- random and unguessable; only its owner can use it anyway
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    browser_key_id INTEGER NOT NULL REFERENCES browser_key (id) ON DELETE CASCADE,
    name TEXT NOT NULL,                    -- the transaction function
    transaction_id TEXT NOT NULL,
    stage TEXT NOT NULL,                   -- proposal, endorsing, transaction, submitting, committed, failed
    message BLOB,                          -- proposal or prepared transaction (gateway protos) being signed
    outcome TEXT,                          -- JSON: the committed result, or the error that ended it
    expires_at REAL NOT NULL,
    created_at REAL NOT NULL
);
