-- Invitations to connect, and the connections they make once accepted.
CREATE TABLE connection_invitations (
    invitation_id INTEGER PRIMARY KEY,
    inviter_id INTEGER NOT NULL REFERENCES members (member_id),
    invitee_id INTEGER NOT NULL REFERENCES members (member_id),
    message TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    sent_at INTEGER NOT NULL,
    responded_at INTEGER,
    CHECK (inviter_id <> invitee_id)
);

CREATE INDEX connection_invitations_invitee ON connection_invitations (invitee_id, status);

-- One row per pair, the smaller member id first.
CREATE TABLE connections (
    member_a INTEGER NOT NULL REFERENCES members (member_id),
    member_b INTEGER NOT NULL REFERENCES members (member_id),
    invitation_id INTEGER NOT NULL REFERENCES connection_invitations (invitation_id),
    connected_at INTEGER NOT NULL,
    PRIMARY KEY (member_a, member_b),
    CHECK (member_a < member_b)
) WITHOUT ROWID;
