-- Numbers pushed to Upstate, one point per series per minute (the mean of
-- what arrived in it), for metric, quota and SLO checks.
CREATE TABLE metric_points (
    series TEXT NOT NULL,
    at     INTEGER NOT NULL,
    value  REAL NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (series, at)
) WITHOUT ROWID;
