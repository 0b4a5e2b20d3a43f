-- +goose Up
-- Failed logins are counted in the database, not in process memory, so every
-- API replica behind a load balancer enforces the same limit.
CREATE TABLE login_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);

-- +goose Down
DROP TABLE login_failures;
