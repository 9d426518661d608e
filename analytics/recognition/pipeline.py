"""LUNA's ``generate events``: a handler's policies run over a request's images, samples or descriptors.

Order, per LUNA: detect (every image at once) -> head-pose filters -> multiface -> extract -> match ->
conditional tags -> storage (face samples, body samples, the face and its lists, the event) -> notify.

Every id (event, face, sample) is made once per request, so a retried storage step writes the same
objects again. Storage is all or nothing per event: the face is created after the samples, the event
after the face, and when a step fails what this request created is deleted before the error is
answered, so a failure never leaves a face without its event (or samples nobody refers to).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import numpy as np

from analytics.images.samples import SampleKind, SampleStore
from analytics.recognition import detection
from analytics.recognition.attributes import AttributeStore, attribute_url, new_attribute
from analytics.recognition.detection import BodyFound, Detector, FaceFound, Person
from analytics.recognition.event_inputs import EventInput, EventsBody, download
from analytics.recognition.face_store import StoredFace
from analytics.recognition.policy_check import PolicyChecker, detect_estimators
from analytics.recognition.notifier import EventNotifier
from analytics.recognition.service import Recognition, to_face
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk
from schemas.descriptor_formats import encode_raw
from schemas.descriptors import BODY_MOBILENETV2_1280, FACE_DLIB_RESNET_128
from schemas.errors import (
    AGGREGATION_OF_DESCRIPTORS,
    DB_CONNECT_ERROR,
    MULTIPLE_FACES,
    SAMPLE_NOT_FOUND,
    SERVICE_UNAVAILABLE,
    SUCCESS,
    SeleneError,
)
from schemas.detector import FilteredDetections, FilteredFace
from schemas.generated_events import (
    CandidateOut,
    DetectionOut,
    FaceAttributesOut,
    GeneratedEvent,
    GeneratedEvents,
    ImageResult,
    MatchOut,
    SampleOut,
    SamplesOut,
)
from schemas.handlers import HandlerMatchPolicy, MatchCandidates, ObjectFilters, Policies
from schemas.luna_events import LunaEvent, RawEvent, event_of_raw
from schemas.callbacks import WsNotificationCallback
from schemas.notifications import EventNotification
from schemas.streams import Location

log = logging.getLogger(__name__)
_POSE = (("pitch_threshold", "pitch"), ("roll_threshold", "roll"), ("yaw_threshold", "yaw"))
_DETECTORS = frozenset({"face_detector", "body_detector"})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EventRequest:
    """What the request's query and headers say about the events to make."""

    account_id: UUID
    handler_id: UUID
    external_id: str = ""
    user_data: str = ""
    source: str | None = None
    stream_id: UUID | None = None
    track_id: str | None = None
    tags: tuple[str, ...] = ()
    location: Location = field(default_factory=Location)
    image_type: int = 0
    aggregate: bool = False
    use_exif: bool = True
    event_time: datetime | None = None
    event_end_time: datetime | None = None
    request_id: str | None = None
    id_seed: str | None = None  # set: ids derive from it (a task's image redone makes the same objects)

    def new_id(self, *parts: object) -> UUID:
        if self.id_seed is None:
            return uuid.uuid4()
        return uuid.uuid5(uuid.NAMESPACE_URL, ":".join(["selene", self.id_seed, *map(str, parts)]))


@dataclass
class _Detection:
    """One person in one input: a face and/or a body, with their descriptors."""

    source: EventInput
    person: Person | None  # None: the input was a descriptor
    face_vector: tuple[int, np.ndarray] | None = None
    body_vector: tuple[int, np.ndarray] | None = None
    face_sample: UUID | None = None
    body_sample: UUID | None = None


@dataclass
class _Created:
    """What one event's storage step has written so far, so that a failure can take it back."""

    samples: list[tuple[SampleKind, UUID]] = field(default_factory=list)
    attribute: UUID | None = None
    face: UUID | None = None


def passes(filters: ObjectFilters, matches: list[MatchOut]) -> bool:
    """Whether a detection meets the filters. Only match conditions can be evaluated here: the others need
    estimators that the policy checker refuses at creation."""
    for condition in filters.match or []:
        found = next((m for m in matches if m.label == condition.label), None)
        best = found.candidates[0].similarity if found and found.candidates else None
        if best is None:
            return False
        if condition.similarity__gte is not None and best < condition.similarity__gte:
            return False
        if condition.similarity__lt is not None and best >= condition.similarity__lt:
            return False
    return True


def _shown(found: FaceFound | BodyFound) -> dict[str, Any]:
    """A detection as the event shows it: no warp pixels, no descriptor (LUNA keeps those apart)."""
    shown: dict[str, Any] = found.detection.model_dump(mode="json", exclude_none=True, exclude={"warp"})
    shown.get("attributes", {}).pop("descriptor", None)
    return shown


def _vectors(person: Person) -> tuple[tuple[int, np.ndarray] | None, tuple[int, np.ndarray] | None]:
    face = person.face.estimation.descriptor if person.face else None
    body = person.body.estimation.descriptor if person.body else None
    return (None if face is None else (FACE_DLIB_RESNET_128, face),
            None if body is None else (BODY_MOBILENETV2_1280, body))


class HandlerPipeline:
    def __init__(
        self, recognition: Recognition, sdk: RemoteSdk, samples: SampleStore, checker: PolicyChecker,
        notifier: EventNotifier | None = None, attributes: AttributeStore | None = None,
    ) -> None:
        self.recognition = recognition  # its event archive stores the events (warehouse + descriptors)
        self.detector = Detector(sdk)  # samples are stored here, per the storage policy
        self.samples = samples
        self.checker = checker
        self.notifier = notifier
        self.attributes = attributes  # None: attribute_policy.store_attribute is refused (45004)
        self._saving: set[asyncio.Task[None]] = set()  # events saved without waiting (wait_saving=0)

    async def run(self, policies: Policies, body: EventsBody, request: EventRequest) -> GeneratedEvents:
        # Checked on every run: a dynamic handler's policies arrive now, and a static handler's lists
        # may have been deleted since it was created.
        await self.checker.check(policies, request.account_id)
        inputs = await self._resolve(body.inputs, request.account_id)
        if request.aggregate and any(i.descriptor is not None for i in inputs):
            raise SeleneError(AGGREGATION_OF_DESCRIPTORS)
        results, per_input, filtered = await self._detect(policies, inputs, request)
        groups = self._group(per_input, request.aggregate)
        if request.aggregate and groups:
            self._aggregate(groups[0])
        now = _now()
        events = []
        for n, group in enumerate(groups):
            events.append(await self._event(policies, group, request, body.meta, now, n))
        if self.notifier is not None and events:
            await self._notify(policies, events, request, now)
        return GeneratedEvents(events=[e for e, _ in events], images=results, filtered_detections=filtered)

    # -- inputs --------------------------------------------------------------------------------------
    async def _resolve(self, inputs: list[EventInput], account_id: UUID) -> list[EventInput]:
        """Downloads URLs and reads samples; a failure marks that input only."""
        resolved = []
        async with httpx.AsyncClient(follow_redirects=True) as client:
            for item in inputs:
                if item.error is None and item.url is not None:
                    item = await download(item, client)
                elif item.error is None and item.sample_id is not None:
                    warp = await self.samples.get(account_id, "faces", item.sample_id)
                    item = EventInput(
                        item.filename, image=warp, sample_id=item.sample_id, detect_time=item.detect_time,
                        detect_ts=item.detect_ts, image_origin=item.image_origin, meta=item.meta,
                        error=SeleneError(SAMPLE_NOT_FOUND, item.sample_id) if warp is None else None,
                    )
                resolved.append(item)
        return resolved

    # -- detect, pose filters, multiface, extract ------------------------------------------------
    @staticmethod
    def _detect_policy(policies: Policies, image_type: int, use_exif: bool) -> detection.DetectPolicy:
        detect, extract, storage = policies.detect_policy, policies.extract_policy, policies.storage_policy
        names = detect_estimators(detect) - _DETECTORS
        if extract.extract_face_descriptor or policies.match_policy or storage.face_policy.store_face:
            names.add("face_descriptor")
        if extract.extract_body_descriptor:
            names.add("body_descriptor")
        angles = tuple(180.0 if getattr(detect, name) is None else float(getattr(detect, name)) for name, _ in _POSE)
        if image_type == 1:  # a warp's landmarks are the template's: no pose, no landmarks, no pose filter
            names -= {"head_pose", "landmarks5", "landmarks68"}
            angles = (180.0, 180.0, 180.0)
        return detection.DetectPolicy(
            detect_face=bool(detect.detect_face), detect_body=bool(detect.detect_body),
            multiface_policy=detect.multiface_policy, estimators=frozenset(names),
            max_angles=angles, image_type=image_type, use_exif=use_exif,  # type: ignore[arg-type]
        )

    async def _detect(
        self, policies: Policies, inputs: list[EventInput], request: EventRequest,
    ) -> tuple[list[ImageResult], list[list[_Detection]], FilteredDetections]:
        ok = SUCCESS.body()
        found_by_input: dict[int, detection.ImageResult] = {}
        by_type: dict[int, list[int]] = {}
        for number, item in enumerate(inputs):
            if item.error is None and item.image is not None:
                by_type.setdefault(1 if item.sample_id is not None else request.image_type, []).append(number)
        for image_type, numbers in by_type.items():
            policy = self._detect_policy(policies, image_type, request.use_exif)
            images = [InputImage(inputs[n].filename, inputs[n].image or b"") for n in numbers]
            found_by_input.update(zip(numbers, await self.detector.detect(images, policy)))
        results, per_input, filtered = [], [], FilteredDetections()
        for number, item in enumerate(inputs):
            found = found_by_input.get(number)
            error = item.error or (found.error if found else None)
            if error is None and found is not None and request.aggregate and len(found.people) > 1:
                error = SeleneError(MULTIPLE_FACES, item.filename, len(found.people))  # one person per image
            if error is not None:
                results.append(ImageResult(filename=item.filename, status=0, error=error.body))
                per_input.append([])
                continue
            if found is None:  # a descriptor
                per_input.append([_Detection(item, None, face_vector=item.descriptor)])
            else:
                filtered.face_detections += [FilteredFace(detection=f.face.detection, filter_reasons=f.reasons)
                                             for f in found.filtered]
                per_input.append([_Detection(item, p, *_vectors(p)) for p in found.people])
            results.append(ImageResult(filename=item.filename, status=1, error=ok))
        return results, per_input, filtered

    @staticmethod
    def _group(per_input: list[list[_Detection]], aggregate: bool) -> list[list[_Detection]]:
        found = [d for detections in per_input for d in detections]
        if aggregate:
            return [found] if found else []
        return [[d] for d in found]

    @staticmethod
    def _aggregate(group: list[_Detection]) -> None:
        """One descriptor for the person of every image: the mean (dlib's space is Euclidean; body vectors
        are L2-normalised, so their mean is too), kept on the group's first detection."""
        faces = [d.face_vector[1] for d in group if d.face_vector is not None]
        bodies = [d.body_vector[1] for d in group if d.body_vector is not None]
        if faces:
            group[0].face_vector = (FACE_DLIB_RESNET_128, np.mean(faces, axis=0).astype(np.float32))
        if bodies:
            mean = np.mean(bodies, axis=0)
            group[0].body_vector = (BODY_MOBILENETV2_1280, (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))

    # -- match ---------------------------------------------------------------------------------------
    async def _match(self, policy: HandlerMatchPolicy, vector: tuple[int, np.ndarray], account_id: UUID) -> MatchOut:
        candidates = policy.candidates
        try:
            if isinstance(candidates, MatchCandidates):
                [faces] = await self.recognition.store.search(
                    account_id, vector[0], [vector[1].tolist()],
                    list_ids=None if candidates.list_id is None else [candidates.list_id],
                    face_ids=candidates.face_ids, limit=policy.limit, threshold=policy.threshold,
                )
                found = [CandidateOut(face=to_face(face), similarity=round(s, 6)) for face, s in faces]
            else:
                [events] = await self.recognition.archive().match(
                    account_id, vector[0], [vector[1].tolist()], candidates, policy.limit, policy.threshold)
                found = [CandidateOut(event=m.event, similarity=m.similarity) for m in events]
        except SeleneError:
            raise
        except Exception as exc:  # noqa: BLE001 - a store is down: LUNA's database error, nothing stored yet
            raise SeleneError(DB_CONNECT_ERROR) from exc
        return MatchOut(label=policy.label, candidates=found)

    # -- one event: match, tags, storage -------------------------------------------------------------
    async def _event(
        self, policies: Policies, group: list[_Detection], request: EventRequest, meta: dict[str, Any] | None,
        now: datetime, n: int = 0,
    ) -> tuple[GeneratedEvent, LunaEvent]:
        lead = group[0]
        vector = lead.face_vector
        matches: list[MatchOut] = []
        for policy in policies.match_policy:
            if vector is not None and policy.descriptor.descriptor_type == "face" and passes(policy.filters, matches):
                matches.append(await self._match(policy, vector, request.account_id))
        tags = list(request.tags) + [t.tag for t in policies.conditional_tags_policy
                                     if passes(t.filters, matches) and t.tag not in request.tags]
        event_id = request.new_id("event", n)
        created = _Created()
        try:
            face, luna_event = await self._store(policies, group, request, matches, tags, event_id, meta, now, created)
        except Exception as exc:
            await self._undo(created, request.account_id)
            if isinstance(exc, SeleneError):
                raise
            raise SeleneError(DB_CONNECT_ERROR) from exc
        event = GeneratedEvent(
            event_id=event_id, url=f"/6/events/{event_id}", external_id=request.external_id,
            user_data=request.user_data, source=request.source, stream_id=request.stream_id,
            track_id=request.track_id, tags=tags, location=request.location, meta=luna_event.meta,
            face=to_face(face) if face else None, face_id=face.face_id if face else None,
            face_attributes=FaceAttributesOut(
                attribute_id=created.attribute, url=attribute_url(created.attribute) if created.attribute else None,
                samples=[d.face_sample for d in group if d.face_sample])
            if vector is not None else None,
            detections=self._detections(group, request, now), matches=matches,
        )
        return event, luna_event

    async def _store(
        self, policies: Policies, group: list[_Detection], request: EventRequest, matches: list[MatchOut],
        tags: list[str], event_id: UUID, meta: dict[str, Any] | None, now: datetime, created: _Created,
    ) -> tuple[StoredFace | None, LunaEvent]:
        storage = policies.storage_policy
        for found in group:
            person = found.person
            if person is None:
                continue
            if person.face is not None and storage.face_sample_policy.store_sample and passes(
                    storage.face_sample_policy.filters, matches):
                found.face_sample = await self._put_sample("faces", person.face.warp, request, created, event_id)
            if person.body is not None and storage.body_sample_policy.store_sample and passes(
                    storage.body_sample_policy.filters, matches):
                found.body_sample = await self._put_sample("bodies", person.body.warp, request, created, event_id)
        vector = group[0].face_vector
        attribute = None
        if storage.attribute_policy.store_attribute and vector is not None and passes(
                storage.attribute_policy.filters, matches):
            attribute = new_attribute(request.account_id, vector[0], vector[1], [d.face_sample for d in group if d.face_sample])
            created.attribute = attribute.attribute_id
            await self._attributes().put(attribute, storage.attribute_policy.ttl)
        face = None
        policy = storage.face_policy
        stored_event = storage.event_policy.store_event and passes(storage.event_policy.filters, matches)
        if policy.store_face and vector is not None and passes(policy.filters, matches):
            avatar = next((d.face_sample for d in group if d.face_sample), None) if policy.set_sample_as_avatar else None
            face = StoredFace(
                face_id=request.new_id("face", event_id), account_id=request.account_id, external_id=request.external_id or None,
                user_data=request.user_data, avatar=f"/6/samples/faces/{avatar}" if avatar else "",
                event_id=event_id if stored_event else None, create_time=now,
                lists=[link.list_id for link in policy.link_to_lists_policy if passes(link.filters, matches)],
                descriptor_version=vector[0], vector=vector[1].tolist(),
            )
            created.face = face.face_id
            await self.recognition.store.insert(face)
        luna_event = self._luna_event(group, request, matches, tags, event_id, face, meta, now)
        if stored_event:
            if storage.event_policy.wait_saving:
                await self.recognition.archive().save([luna_event])
            else:
                task = asyncio.create_task(self._save_later(luna_event))
                self._saving.add(task)
                task.add_done_callback(self._saving.discard)
        return face, luna_event

    def _attributes(self) -> AttributeStore:
        if self.attributes is None:
            raise SeleneError(SERVICE_UNAVAILABLE, "temporary attributes", "this API runs without an attribute store")
        return self.attributes

    async def _put_sample(self, kind: SampleKind, jpeg: bytes, request: EventRequest, created: _Created,
                          event_id: UUID) -> UUID:
        sample_id = request.new_id(kind, event_id, len(created.samples))
        created.samples.append((kind, sample_id))
        await self.samples.put(request.account_id, kind, jpeg, sample_id)
        return sample_id

    async def _save_later(self, event: LunaEvent) -> None:
        try:
            await self.recognition.archive().save([event])
        except Exception:  # noqa: BLE001 - wait_saving=0: the client was answered already
            log.exception("event not saved", extra={"event_id": str(event.event_id)})

    async def _undo(self, created: _Created, account_id: UUID) -> None:
        """Best effort: each deletion is tried even when another fails (the store that failed may be down)."""
        if created.face is not None:
            try:
                await self.recognition.store.delete(account_id, [created.face])
            except Exception:  # noqa: BLE001
                log.exception("could not delete the face of a failed event", extra={"face_id": str(created.face)})
        if created.attribute is not None and self.attributes is not None:
            try:
                await self.attributes.delete(created.attribute, {account_id})
            except Exception:  # noqa: BLE001
                log.exception("could not delete the attribute of a failed event", extra={"attribute_id": str(created.attribute)})
        for kind, sample_id in created.samples:
            try:
                await self.samples.delete(account_id, kind, sample_id)
            except Exception:  # noqa: BLE001
                log.exception("could not delete a sample of a failed event", extra={"sample_id": str(sample_id)})

    # -- shapes --------------------------------------------------------------------------------------
    @staticmethod
    def _detections(group: list[_Detection], request: EventRequest, now: datetime) -> list[DetectionOut]:
        out = []
        for d in group:
            if d.person is None:
                continue
            face, body = d.person.face, d.person.body
            out.append(DetectionOut(
                filename=d.source.filename,
                detect_time=(d.source.detect_time or request.event_time or now).isoformat(),
                detect_ts=d.source.detect_ts, image_origin=d.source.image_origin,
                samples=SamplesOut(
                    face=SampleOut(detection=_shown(face), sample_id=d.face_sample,
                                   url=f"/6/samples/faces/{d.face_sample}" if d.face_sample else None) if face else None,
                    body=SampleOut(detection=_shown(body), sample_id=d.body_sample,
                                   url=f"/6/samples/bodies/{d.body_sample}" if d.body_sample else None) if body else None,
                ),
            ))
        return out

    @staticmethod
    def _luna_event(group: list[_Detection], request: EventRequest, matches: list[MatchOut], tags: list[str],
                    event_id: UUID, face: StoredFace | None, meta: dict[str, Any] | None, now: datetime) -> LunaEvent:
        """The stored event, through the events room's own conversion of a handler-shaped event."""

        def sample(entry: Any, sample_id: UUID | None) -> dict[str, Any] | None:
            if entry is None:
                return None
            r = entry.detection.rect
            rect = {"x": round(r.x), "y": round(r.y), "width": round(r.width), "height": round(r.height)}
            return {"sample_id": str(sample_id) if sample_id else None, "detection": {"rect": rect}}

        detections = [{
            "detect_time": (d.source.detect_time or request.event_time or now).isoformat(),
            "detect_ts": d.source.detect_ts, "image_origin": d.source.image_origin, "filename": d.source.filename,
            "samples": {"face": sample(d.person.face, d.face_sample), "body": sample(d.person.body, d.body_sample)},
        } for d in group if d.person is not None]
        lead = group[0]
        face_vector, body_vector = lead.face_vector, lead.body_vector
        own_meta = {**(meta or {}), **(lead.source.meta or {})} if (meta or lead.source.meta) else None
        raw = RawEvent.model_validate({
            "detections": detections, "source": request.source, "stream_id": request.stream_id,
            "location": request.location, "external_id": request.external_id, "user_data": request.user_data,
            "track_id": request.track_id, "tags": tags, "create_time": request.event_time or now,
            "end_time": request.event_end_time, "meta": own_meta,
            "face": {"face_id": face.face_id, "external_id": face.external_id, "lists": face.lists} if face else None,
            "matches": [{"label": m.label, "candidates": [c.model_dump(mode="json", exclude_none=True) for c in m.candidates]}
                        for m in matches],
            "face_attributes": {"descriptor": {"descriptor": encode_raw(face_vector[1]),
                                               "descriptor_version": face_vector[0]}} if face_vector else None,
            "body_attributes": {"descriptor": {"descriptor": encode_raw(body_vector[1]),
                                               "descriptor_version": body_vector[0]}} if body_vector else None,
        })
        return event_of_raw(raw, request.account_id, event_id, request.handler_id, now)

    # -- notify ----------------------------------------------------------------------------------------
    async def _notify(self, policies: Policies, events: list[tuple[GeneratedEvent, LunaEvent]], request: EventRequest,
                      now: datetime) -> None:
        """One notification per event, saved or not, carrying the callbacks the sender delivers it to: the
        handler's, plus a filterless ws callback for the deprecated notification policy when it passes."""
        storage = policies.storage_policy
        notifications = []
        for event, luna in events:
            callbacks = [c for c in storage.callbacks if c.enable]
            policy = storage.notification_policy
            if policy.send_notification and passes(policy.filters, event.matches):
                callbacks.append(WsNotificationCallback(type="luna-ws-notification"))
            if callbacks:
                notifications.append(EventNotification(
                    account_id=request.account_id, handler_id=request.handler_id, event=event.model_dump(mode="json"),
                    event_create_time=luna.create_time, event_end_time=luna.end_time or luna.create_time,
                    request_id=request.request_id, callbacks=callbacks,
                ))
        if not notifications:
            return
        assert self.notifier is not None
        try:
            await self.notifier.publish(notifications)
        except Exception:  # noqa: BLE001 - the events are made and stored; a notification is best effort
            log.exception("event notifications not published", extra={"handler_id": str(request.handler_id)})
