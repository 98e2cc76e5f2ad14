-- What members do on the site, and who looks at whose profile.
CREATE TABLE member_activity (
    activity_id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (member_id),
    kind TEXT NOT NULL CHECK (kind IN ('page_view', 'click', 'post', 'reaction')),
    page TEXT NOT NULL,
    dwell_ms INTEGER NOT NULL CHECK (dwell_ms >= 0),
    user_agent TEXT NOT NULL,
    is_bot INTEGER NOT NULL CHECK (is_bot IN (0, 1)),
    occurred_at INTEGER NOT NULL
);

CREATE INDEX member_activity_member ON member_activity (member_id, occurred_at);

CREATE TABLE profile_views (
    view_id INTEGER PRIMARY KEY,
    viewer_id INTEGER NOT NULL REFERENCES members (member_id),
    viewed_id INTEGER NOT NULL REFERENCES members (member_id),
    occurred_at INTEGER NOT NULL,
    CHECK (viewer_id <> viewed_id)
);

CREATE INDEX profile_views_viewed ON profile_views (viewed_id, occurred_at);
