-- LUNA's face/body events (the events handlers make and "save event" stores), one row per event.
-- Events are immutable; saving an event_id again (a retried handler) replaces the row, so reads
-- with FINAL see each event once. Nested parts (detections, matches, clothing, meta) are JSON text;
-- what LUNA filters or aggregates on has a column of its own. No partitions: FINAL collapses
-- duplicates within a partition only, and a retry must collapse even if its create_time differs.
CREATE TABLE IF NOT EXISTS {database}.luna_events
(
    event_id                      UUID,
    account_id                    UUID,
    handler_id                    Nullable(UUID),
    create_time                   DateTime64(3, 'UTC'),
    end_time                      DateTime64(3, 'UTC'),
    insert_time                   DateTime64(3, 'UTC') DEFAULT now64(3),
    external_id                   String,
    user_data                     String,
    source                        Nullable(String),
    stream_id                     Nullable(UUID),
    track_id                      Nullable(String),
    tags                          Array(String),
    has_tags                      UInt8,
    city                          Nullable(String),
    area                          Nullable(String),
    district                      Nullable(String),
    street                        Nullable(String),
    house_number                  Nullable(String),
    longitude                     Nullable(Float64),
    latitude                      Nullable(Float64),
    face_id                       Nullable(UUID),
    attach_result                 String DEFAULT '[]',
    top_match                     String DEFAULT 'null',
    top_matching_candidates_label Nullable(String),
    top_similar_object_id         Nullable(UUID),
    top_similar_object_type       Nullable(UInt8),
    top_similar_external_id       Nullable(String),
    top_similar_object_similarity Nullable(Float64),
    match_result                  String DEFAULT 'null',
    face_detections               String DEFAULT 'null',
    body_detections               String DEFAULT 'null',
    gender                        Nullable(UInt8),
    age                           Nullable(UInt8),
    emotion                       Nullable(UInt8),
    ethnic_group                  Nullable(UInt8),
    mask                          Nullable(UInt8),
    liveness                      Nullable(UInt8),
    deepfake                      Nullable(UInt8),
    apparent_age                  Nullable(UInt8),
    apparent_gender               Nullable(UInt8),
    body_basic_attributes         String DEFAULT 'null',
    upper_body                    String DEFAULT 'null',
    lower_body                    String DEFAULT 'null',
    accessories                   String DEFAULT 'null',
    meta                          String DEFAULT 'null',
    face_descriptor               Array(Float32),
    face_descriptor_version       UInt32 DEFAULT 0,
    body_descriptor               Array(Float32),
    body_descriptor_version       UInt32 DEFAULT 0
)
ENGINE = ReplacingMergeTree(insert_time)
ORDER BY (account_id, event_id)
