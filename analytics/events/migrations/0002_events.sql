-- Analytics events (people count, human tracking, line crossing, zone occupancy), one row per event.
-- A started and an ended message share the event_id; status_rank makes the ended one win, and
-- replays of either collapse, so every event lands once.
CREATE TABLE IF NOT EXISTS {database}.analytics_events
(
    event_id          UUID,
    event_type        LowCardinality(String),
    account_id        UUID,
    stream_id         UUID,
    version           UInt32,
    analytic_name     LowCardinality(String),
    analytic_index    UInt16,
    track_id          String,
    event_status      LowCardinality(String),
    status_rank       UInt8,
    create_time       DateTime64(3, 'UTC'),
    end_time          Nullable(DateTime64(3, 'UTC')),
    people_count      Nullable(UInt32),
    start_time_offset Float64,
    end_time_offset   Float64,
    event             String,
    insert_time       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(status_rank)
PARTITION BY toYYYYMM(create_time)
ORDER BY (account_id, stream_id, event_id);

CREATE VIEW IF NOT EXISTS {database}.people_count_events AS
SELECT * FROM {database}.analytics_events FINAL WHERE event_type = 'crowd';

CREATE VIEW IF NOT EXISTS {database}.human_tracks AS
SELECT * FROM {database}.analytics_events FINAL WHERE event_type = 'human_tracking';

-- The per-frame people count time series that dashboards and /ui read.
CREATE TABLE IF NOT EXISTS {database}.people_counts
(
    stream_id      UUID,
    account_id     UUID,
    version        UInt32,
    analytic_index UInt16,
    frame_number   Nullable(UInt64),
    time_offset    Float64,
    timestamp      DateTime64(3, 'UTC'),
    people_count   UInt32,
    zone_counts    Map(String, UInt32),
    line_in        Map(String, UInt32),
    line_out       Map(String, UInt32),
    insert_time    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(insert_time)
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (stream_id, version, analytic_index, time_offset);

-- LUNA's general events: fixed searchable columns, the event's own content as JSON text.
CREATE TABLE IF NOT EXISTS {database}.general_events
(
    event_id          UUID,
    event_type        LowCardinality(String),
    account_id        UUID,
    event_create_time DateTime64(3, 'UTC'),
    event_end_time    Nullable(DateTime64(3, 'UTC')),
    insert_time       DateTime64(3, 'UTC') DEFAULT now64(3),
    stream_id         Nullable(UUID),
    track_id          Nullable(String),
    source            Nullable(String),
    city              Nullable(String),
    area              Nullable(String),
    district          Nullable(String),
    street            Nullable(String),
    house_number      Nullable(String),
    longitude         Nullable(Float64),
    latitude          Nullable(Float64),
    descriptors       String DEFAULT '[]',
    event             String DEFAULT '{}'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_create_time)
ORDER BY (account_id, event_id)
