-- Delivery lanes: pages, the team's channels and the public's
-- subscriptions are read and sent apart, so a flood or a hanging receiver
-- in one lane never holds up another (see upstate.Message.Lane).
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'operator';
UPDATE outbox SET lane = CASE
    WHEN substr(stream, 1, 5) = 'page:' THEN 'page'
    WHEN substr(channel, 1, 11) = 'subscriber:' THEN 'subscriber'
    ELSE 'operator' END;
CREATE INDEX outbox_lane_due ON outbox (lane, seq) WHERE state = 'pending';
