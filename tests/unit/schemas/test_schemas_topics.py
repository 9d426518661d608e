from __future__ import annotations

import pytest

from schemas.base import Message
from schemas.topics import BY_NAME, CATALOGUE, STREAM_PARTITIONS, TopicSpec

EXPECTED = {
    "selene.frames",
    "selene.frame-stats",
    "selene.detections",
    "selene.tracks",
    "selene.analytics-events",
    "selene.counts",
    "selene.descriptors", "selene.best-shots", "selene.matches",
    "selene.general-events",
    "selene.event-notifications",
    "selene.agent-feedback",
    "selene.stream-commands",
    "selene.stream-configs",
    "selene.dead-letter",
    "selene.tasks",
}


def test_catalogue_lists_every_topic_once() -> None:
    names = [t.name for t in CATALOGUE]
    assert len(names) == len(set(names))
    assert set(names) == EXPECTED
    assert set(BY_NAME) == EXPECTED


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_topic_spec_is_sound(spec: TopicSpec) -> None:
    assert spec.value_type is not None or spec.header_type is not None
    for t in (spec.value_type, spec.header_type):
        assert t is None or issubclass(t, Message)
    assert spec.partitions >= 1
    assert spec.compacted != (spec.retention_ms is not None)
    assert spec.retention_ms is None or spec.retention_ms > 0
    assert spec.description and "\n" not in spec.description
    assert spec.name.startswith("selene.")
    config = spec.config
    if spec.compacted:
        assert config == {"cleanup.policy": "compact"}
    else:
        assert config["retention.ms"] == str(spec.retention_ms)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_key_is_a_field_of_the_value(spec: TopicSpec) -> None:
    model = spec.value_type or spec.header_type
    assert model is not None
    assert spec.key in model.model_fields


def test_stream_keyed_topics_are_co_partitioned() -> None:
    for spec in CATALOGUE:
        if spec.key == "stream_id":
            assert spec.partitions == STREAM_PARTITIONS, spec.name
    assert BY_NAME["selene.stream-configs"].compacted
    assert BY_NAME["selene.agent-feedback"].key == "agent_id"
    assert BY_NAME["selene.stream-commands"].key == "agent_id"
