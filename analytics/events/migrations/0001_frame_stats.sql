-- One row per processed frame: the pulse of every stream (fps, lag, frame sizes).
-- ReplacingMergeTree on the frame's identity makes a replayed message land once.
CREATE TABLE IF NOT EXISTS {database}.frame_stats
(
    stream_id    UUID,
    version      UInt32,
    frame_number UInt64,
    time_offset  Float64,
    timestamp    DateTime64(3, 'UTC'),
    received_at  DateTime64(3, 'UTC'),
    width        UInt32,
    height       UInt32,
    size         UInt32,
    insert_time  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(insert_time)
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (stream_id, version, frame_number)
