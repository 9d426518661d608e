"""The /6/ws handshake's query string: LUNA's comma lists, repeated parameters, the geo box, 12012."""

from __future__ import annotations

import uuid

import pytest
from starlette.datastructures import QueryParams

from analytics.sender.handshake import filters_of
from schemas.errors import SeleneError


def test_lists_scalars_and_the_geo_box_are_parsed() -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    query = QueryParams(
        f"sources=cam1,cam2&tags=a&tags=b,c&handler_ids={ids[0]},{ids[1]}&gender=1&ethnic_groups=1,4&age__gte=18"
        "&object_similarity__gte=0.5&user_data=door&upper_clothing_colors=black,white"
        "&geo_position=origin_longitude,36.616,origin_latitude,55.752,longitude_delta,0.5&account_id=x&token=t"
    )
    filters = filters_of(query)
    assert filters.sources == ["cam1", "cam2"] and filters.tags == ["a", "b", "c"]
    assert filters.handler_ids == ids and filters.gender == 1 and filters.ethnic_groups == [1, 4]
    assert (filters.age__gte, filters.object_similarity__gte, filters.user_data) == (18, 0.5, "door")
    assert filters.upper_clothing_colors == ["black", "white"]
    geo = filters.geo_position
    assert geo is not None and (geo.origin_longitude, geo.origin_latitude, geo.longitude_delta, geo.latitude_delta) == (
        36.616, 55.752, 0.5, 0.01)


def test_no_parameters_no_filters() -> None:
    assert filters_of(QueryParams("")).model_dump(exclude_none=True) == {}


@pytest.mark.parametrize("query", [
    "gender=2", "gender=male", "ethnic_groups=1,9", "stream_ids=not-a-uuid", "age__gte=-1",
    "object_similarity__gte=1.5", "tags=" + "x" * 37, "sleeve_lengths=medium", "geo_position=origin_longitude,1",
    "geo_position=origin_longitude,1,origin_latitude,200", "geo_position=origin_longitude,1,origin_height,2",
    "geo_position=a,b,c", "masks=", "emotions=1,,2",
])
def test_a_bad_filter_is_12012(query: str) -> None:
    with pytest.raises(SeleneError) as raised:
        filters_of(QueryParams(query))
    assert raised.value.body.error_code == 12012
