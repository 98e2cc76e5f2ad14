-- What the sample's saga participants do, one row per effect, so each command's and each
-- compensation's effect can be counted in SQL (docs/events.md, "Sagas").

-- The invitations handler: one row per invitation it tracks. `sending` once tracked,
-- `delivered` when the email handler got the email out, `failed` when the saga gave up
-- (MarkInvitationFailed, the compensation of "track").
CREATE TABLE invitation_deliveries (
    invitation_id INTEGER PRIMARY KEY,
    invitee_id INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'delivered', 'failed')),
    tracked_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER
);

-- The notifications handler: one row per push notification sent; a retraction (the
-- compensation of "notify") marks it, it does not add a row.
CREATE TABLE push_notifications (
    notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    command_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sent', 'retracted')),
    sent_at INTEGER NOT NULL,
    retracted_at INTEGER
);

CREATE INDEX push_notifications_invitation ON push_notifications (invitation_id);

-- Mail domains whose every address hard-bounces: the email handler refuses to send there.
-- The sample gives every twentieth member (member id 4, 24, 44, 64 and 84) an address at the first.
CREATE TABLE bouncing_domains (
    domain TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);

INSERT INTO bouncing_domains (domain, reason) VALUES ('bounce.example.net', '550 5.1.1 mailbox does not exist');

-- The email handler: one row per invitation email attempt, sent or bounced.
CREATE TABLE invitation_emails (
    email_id INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id INTEGER NOT NULL,
    address TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sent', 'bounced')),
    reason TEXT,
    attempted_at INTEGER NOT NULL
);

CREATE INDEX invitation_emails_invitation ON invitation_emails (invitation_id);

-- The analytics handler: one row per invitation recorded.
CREATE TABLE invitation_analytics (
    invitation_id INTEGER PRIMARY KEY,
    inviter_id INTEGER NOT NULL,
    invitee_id INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);

-- The plans members can buy. A retired plan is still offered by old clients and charged by
-- payments, but the entitlements handler refuses to grant it, so its charge is refunded.
CREATE TABLE premium_plans (
    plan TEXT PRIMARY KEY,
    cents INTEGER NOT NULL CHECK (cents > 0),
    available INTEGER NOT NULL CHECK (available IN (0, 1))
);

INSERT INTO premium_plans (plan, cents, available) VALUES
    ('premium-monthly', 2999, 1),
    ('premium-yearly', 23988, 1),
    ('career-legacy', 1999, 0);

-- Requests to upgrade, written by Network.requestPremiumUpgrade with their
-- PremiumUpgradeRequested event.
CREATE TABLE premium_upgrades (
    upgrade_id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (member_id),
    plan TEXT NOT NULL REFERENCES premium_plans (plan),
    cents INTEGER NOT NULL,
    requested_at INTEGER NOT NULL
);

-- The payments handler: one row per charge and one per refund (a refund names its charge).
CREATE TABLE payments (
    payment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    upgrade_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
    charge_id TEXT NOT NULL,
    cents INTEGER NOT NULL,
    command_id TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX payments_upgrade ON payments (upgrade_id, kind);

-- The entitlements handler: one row per grant; a revocation (the compensation of "entitle")
-- marks it.
CREATE TABLE entitlements (
    upgrade_id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL,
    plan TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- The receipts the email handler sent: one per completed upgrade.
CREATE TABLE receipts (
    upgrade_id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL,
    charge_id TEXT NOT NULL,
    cents INTEGER NOT NULL,
    address TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);
