-- Per unit of a closed wave and per scope (a mass dimension's id, or '' for all items):
-- sums over the unit's respondents of y (satisfied answers), x (valid answers), y², x² and
-- xy, both weighted by item weight. A pooled rate's interval must account for one person's
-- answers moving together, and option counts cannot say whose answers they were; these
-- sums can, add up over units for roll-ups, and `wave verify` recounts them.
CREATE TABLE moments (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    unit TEXT NOT NULL,
    scope TEXT NOT NULL,
    respondents BIGINT NOT NULL,
    sum_y DOUBLE PRECISION NOT NULL,
    sum_x DOUBLE PRECISION NOT NULL,
    sum_yy DOUBLE PRECISION NOT NULL,
    sum_xx DOUBLE PRECISION NOT NULL,
    sum_xy DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (wave_id, unit, scope)
);
