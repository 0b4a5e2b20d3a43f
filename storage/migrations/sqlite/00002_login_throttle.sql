-- +goose Up
-- Failed logins are counted in the database, not in process memory, so every
-- API replica behind a load balancer enforces the same limit.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

-- +goose Down
DROP TABLE login_failures;
