-- The agent run (FrameEnvelope.run) joins the frame's identity: an agent restart plays the same stream
-- version again from frame 0, and its rows must sit beside the first run's, not replace them.
-- ClickHouse appends a key column only in the ALTER that adds it, and only one without a DEFAULT
-- expression (the type's 0 marks the rows from before runs existed).
ALTER TABLE {database}.frame_stats
    ADD COLUMN IF NOT EXISTS run UInt64 AFTER version,
    MODIFY ORDER BY (stream_id, version, frame_number, run);

ALTER TABLE {database}.people_counts
    ADD COLUMN IF NOT EXISTS run UInt64 AFTER version,
    MODIFY ORDER BY (stream_id, version, analytic_index, time_offset, run)
