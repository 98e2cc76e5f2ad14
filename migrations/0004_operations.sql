-- The services behind the site: who owns them, what they throw, how their hosts are doing.
CREATE TABLE service_owners (
    service TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    assigned_at INTEGER NOT NULL
);

CREATE TABLE service_exceptions (
    exception_id INTEGER PRIMARY KEY,
    service TEXT NOT NULL REFERENCES service_owners (service),
    host TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('warning', 'error', 'fatal')),
    exception_type TEXT NOT NULL,
    message TEXT NOT NULL,
    stack_trace TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);

CREATE INDEX service_exceptions_service ON service_exceptions (service, occurred_at);

CREATE TABLE host_metrics (
    host TEXT NOT NULL,
    metric TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (host, metric, recorded_at)
) WITHOUT ROWID;
