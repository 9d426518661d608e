from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.analytics import (
    ANALYTIC_PARAMETERS,
    Droi,
    HttpCallback,
    HumanTrackingParameters,
    ImageRetainPolicy,
    LineCrossing,
    LunaEventCallback,
    PeopleCountParameters,
    Rate,
    Roi,
    WebsocketCallback,
    parameters_for,
    parse_wkt,
)


def error_locs(exc: ValidationError) -> list[tuple[Any, ...]]:
    return [e["loc"] for e in exc.errors()]


def test_defaults_match_luna() -> None:
    people = PeopleCountParameters()
    assert people.rate == Rate(period=10, unit="frame")
    assert people.probe_count == 3
    assert people.people_count_threshold == 1
    assert people.roi.is_whole_frame and people.roi.mode == "abs"
    assert people.targets == [] and people.callbacks == []
    tracking = HumanTrackingParameters()
    assert tracking.rate == Rate(period=1, unit="frame")
    assert tracking.detector_type == "body"
    assert tracking.face_samples.count == 1


def test_analytic_parameters_registry() -> None:
    assert set(ANALYTIC_PARAMETERS) == {"people_count", "human_tracking"}
    parsed = parameters_for("people_count", {"probe_count": 2, "rate": {"unit": "second", "period": 1}})
    assert isinstance(parsed, PeopleCountParameters) and parsed.rate.unit == "second"
    with pytest.raises(KeyError):
        parameters_for("face_count", {})


def test_probe_count_zero_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        PeopleCountParameters.model_validate({"probe_count": 0})
    assert ("probe_count",) in error_locs(exc.value)


def test_unknown_parameter_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        PeopleCountParameters.model_validate({"probe_cont": 3})
    assert ("probe_cont",) in error_locs(exc.value)
    assert exc.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("rate", [{"period": 0, "unit": "frame"}, {"period": 2.5, "unit": "frame"}])
def test_bad_rate(rate: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        PeopleCountParameters.model_validate({"rate": rate})
    assert exc.value.errors()[0]["loc"][0] == "rate"


def test_fractional_seconds_rate_allowed() -> None:
    assert Rate(period=0.5, unit="second").period == 0.5


def test_roi_percent_over_100_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        PeopleCountParameters.model_validate(
            {"roi": {"x": 10, "y": 0, "width": 120, "height": 50, "mode": "percent"}}
        )
    assert exc.value.errors()[0]["loc"][0] == "roi"
    assert "width" in str(exc.value)
    with pytest.raises(ValidationError, match="past the frame"):
        Roi(x=50, y=0, width=60, height=10, mode="percent")


def test_roi_abs_allows_large_values_and_converts() -> None:
    roi = Roi(x=100, y=50, width=2000, height=100)
    assert roi.to_pixels(640, 480) == (100, 50, 540, 100)
    assert Roi().to_pixels(640, 480) == (0, 0, 640, 480)
    assert Roi(x=50, y=50, width=50, height=50, mode="percent").to_pixels(640, 480) == (320, 240, 320, 240)


def test_roi_half_zero_rejected() -> None:
    with pytest.raises(ValidationError):
        Roi(width=0, height=10)


def test_droi_polygons_and_wkt() -> None:
    droi = Droi.model_validate({"area": [[{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]]})
    assert droi.form == "common" and droi.mode == "abs"
    assert droi.polygons() == [[[(0, 0), (10, 0), (10, 10)]]]
    luna_example = Droi(area="POLYGON ((30 10, 20 40, 40 40, 10 20))")
    assert luna_example.polygons()[0][0][0] == (30.0, 10.0)
    holes = parse_wkt("MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10), (2 2, 4 2, 4 4)), ((20 20, 30 20, 30 30)))")
    assert [len(p) for p in holes] == [2, 1]
    pct = Droi(area="POLYGON ((0 0, 50 0, 50 50))", mode="percent")
    assert pct.polygons(200, 100)[0][0][1] == (100.0, 0.0)


@pytest.mark.parametrize(
    "wkt",
    [
        "POLYGON ((30 10, 20 40, 40 40, 10 20)",
        "POLYGON (30 10, 20 40, 40 40)",
        "POINT (1 2)",
        "POLYGON ((1 2, 3 4))",
        "POLYGON ((1 2, 3 4, 5))",
        "POLYGON ((1 2, 3 4, 5 6))) ",
        "POLYGON EMPTY",
        "",
    ],
)
def test_bad_wkt_rejected(wkt: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Droi(area=wkt)
    assert exc.value.errors()[0]["loc"][0] == "area"


def test_droi_polygon_needs_three_points() -> None:
    with pytest.raises(ValidationError):
        Droi.model_validate({"area": [[{"x": 0, "y": 0}, {"x": 1, "y": 1}]]})
    with pytest.raises(ValidationError):
        Droi.model_validate(
            {"area": [[{"x": 0, "y": 0}, {"x": 1, "y": 1}, {"x": 2, "y": 0}]], "form": "fancy"}
        )


def test_droi_percent_range() -> None:
    with pytest.raises(ValidationError, match="0..100"):
        Droi(area="POLYGON ((0 0, 150 0, 50 50))", mode="percent")


def test_callbacks_discriminated() -> None:
    params = PeopleCountParameters.model_validate(
        {
            "callbacks": [
                {
                    "type": "http",
                    "url": "https://example.org/hook",
                    "authorization": {"type": "bearer", "token": "t"},
                },
                {"type": "luna-event"},
                {"type": "websocket"},
            ]
        }
    )
    kinds = [type(c) for c in params.callbacks]
    assert kinds == [HttpCallback, LunaEventCallback, WebsocketCallback]
    http = params.callbacks[0]
    assert isinstance(http, HttpCallback)
    assert http.timeout == 60 and http.content_type == "application/json"
    with pytest.raises(ValidationError):
        PeopleCountParameters.model_validate({"callbacks": [{"type": "carrier-pigeon"}]})
    with pytest.raises(ValidationError):
        HttpCallback(url="ftp://example.org")
    with pytest.raises(ValidationError, match="login and password"):
        HttpCallback.model_validate({"url": "http://x", "authorization": {"type": "basic", "login": "a"}})


def test_image_retain_policy_ttl() -> None:
    assert ImageRetainPolicy(ttl=-1).ttl == -1
    assert ImageRetainPolicy(ttl=7, max_size=0).max_size == 0
    with pytest.raises(ValidationError):
        ImageRetainPolicy(ttl=0)


def test_lines_and_zones() -> None:
    params = PeopleCountParameters.model_validate(
        {
            "lines": [{"line_id": "door", "start": {"x": 0, "y": 5}, "end": {"x": 10, "y": 5}}],
            "zones": [{"zone_id": "hall", "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]}],
        }
    )
    assert params.lines[0].line_id == "door"
    with pytest.raises(ValidationError, match="distinct"):
        LineCrossing.model_validate({"line_id": "a", "start": {"x": 1, "y": 1}, "end": {"x": 1, "y": 1}})
    with pytest.raises(ValidationError, match="duplicate line_id"):
        PeopleCountParameters.model_validate(
            {"lines": [{"line_id": "a", "start": {"x": 0, "y": 0}, "end": {"x": 1, "y": 1}}] * 2}
        )
    with pytest.raises(ValidationError):
        LineCrossing.model_validate(
            {"line_id": "bad id!", "start": {"x": 0, "y": 0}, "end": {"x": 1, "y": 1}}
        )


def test_targets() -> None:
    assert PeopleCountParameters(targets=["coordinates", "overview"]).targets == ["coordinates", "overview"]
    with pytest.raises(ValidationError):
        PeopleCountParameters.model_validate({"targets": ["faces"]})
    with pytest.raises(ValidationError, match="duplicate"):
        PeopleCountParameters.model_validate({"targets": ["overview", "overview"]})


def test_human_tracking_consistency() -> None:
    params = HumanTrackingParameters.model_validate(
        {
            "detector_type": "face_body",
            "targets": ["face_descriptor", "body_descriptor", "best_shot_images"],
            "best_shot_filters": {"score": 0.5, "head_yaw": 30},
            "match_policy": {"list_ids": ["6d1f7c9e-0000-4000-8000-000000000001"], "threshold": 0.8},
            "face_samples": {"count": 3},
        }
    )
    assert params.extracts_face_descriptor and params.match_policy is not None
    assert params.match_policy.limit == 3
    with pytest.raises(ValidationError, match="face_descriptor"):
        HumanTrackingParameters(detector_type="body", targets=["face_descriptor"])
    with pytest.raises(ValidationError, match="match_policy"):
        HumanTrackingParameters.model_validate(
            {"match_policy": {"list_ids": ["6d1f7c9e-0000-4000-8000-000000000001"]}}
        )
    with pytest.raises(ValidationError) as exc:
        HumanTrackingParameters.model_validate({"detector_type": "car"})
    assert ("detector_type",) in error_locs(exc.value)
    with pytest.raises(ValidationError):
        HumanTrackingParameters.model_validate({"best_shot_filters": {"score": 1.5}})
    with pytest.raises(ValidationError):
        HumanTrackingParameters.model_validate({"match_policy": {"list_ids": []}, "detector_type": "face"})


def test_parameters_round_trip_through_dict() -> None:
    params = HumanTrackingParameters(detector_type="face", targets=["face_descriptor"])
    stored = params.model_dump(mode="json")
    assert HumanTrackingParameters.model_validate(stored) == params
