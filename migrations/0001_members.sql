-- Members of the sample professional network and their public profiles.
-- Times are milliseconds since 1970 (UTC), like every Runnel timestamp.
CREATE TABLE members (
    member_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    industry TEXT NOT NULL,
    is_bot INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    joined_at INTEGER NOT NULL,
    last_active_at INTEGER
);

CREATE TABLE profiles (
    member_id INTEGER PRIMARY KEY REFERENCES members (member_id),
    headline TEXT NOT NULL,
    location TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
