"""LUNA's error codes and error body.

LUNA answers every failure with ``{"error_code", "desc", "detail", "link"}``; ``desc`` is the
category ("Bad/incomplete input data"), ``detail`` the filled-in message. Codes and texts follow the
LUNA PLATFORM 5 administrator manual, chapter 11; Selene-only codes live in the 45000 range.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.base import Body

LINK_TEMPLATE = "https://docs.visionlabs.ai/info/luna/troubleshooting/errors-description/code-{code}"


class ErrorBody(Body):
    error_code: int
    desc: str
    detail: str
    link: str


@dataclass(frozen=True)
class ErrorCode:
    code: int
    desc: str
    detail: str
    http_status: int

    def body(self, *values: object) -> ErrorBody:
        """The error body with ``{value}`` placeholders in ``detail`` filled in order."""
        detail = self.detail
        for value in values:
            detail = detail.replace("{value}", str(value), 1)
        return ErrorBody(
            error_code=self.code, desc=self.desc, detail=detail, link=LINK_TEMPLATE.format(code=self.code)
        )


class SeleneError(Exception):
    """Raised anywhere in Selene; the API turns it into LUNA's error body and HTTP status."""

    def __init__(self, error: ErrorCode, *values: object) -> None:
        self.error = error
        self.body = error.body(*values)
        super().__init__(f"{self.body.error_code}: {self.body.detail}")


BAD_INPUT = "Bad/incomplete input data"

SUCCESS = ErrorCode(0, "Success", "Success", 200)
UNKNOWN_ERROR = ErrorCode(1, "Internal server error", "Unknown error", 500)
INVALID_URL = ErrorCode(3, BAD_INPUT, "Invalid url {value}", 400)
SQL_ERROR = ErrorCode(10015, "SQL error", "SQL request execution failed", 500)
DB_CONNECT_ERROR = ErrorCode(10016, "Database error", "Could not connect to database", 503)
DB_TIMEOUT = ErrorCode(10017, "Database error", "Database connection timeout error", 503)
DB_ERROR = ErrorCode(10018, "Database error", "{value}", 500)
OBJECT_NOT_FOUND = ErrorCode(11020, "Object not found", "One or more {value} not found", 404)
PERMISSION_DENIED = ErrorCode(
    11059, "Forbidden", 'Request denied due to token restrictions, required "{value}" permission for "{value}"', 403
)
ACCOUNT_ID_HEADER_DISABLED = ErrorCode(
    11061, "Forbidden", 'Authorization with "Luna-Account-Id" header is disabled', 403
)
ACCOUNT_ID_FILTER_DENIED = ErrorCode(
    11063, "Forbidden", "The query parameter account_id usage denied due to account restrictions", 403
)
AUTHORIZATION_FAILED = ErrorCode(11065, "Authorization failed", "Authorization failed, {value}", 401)
DOWNLOAD_FAILED = ErrorCode(11027, "External request failed", "Failed to download image by url {value}", 400)
NO_JSON = ErrorCode(12002, BAD_INPUT, "Request does not contain json", 400)
FIELD_NOT_FOUND = ErrorCode(12003, BAD_INPUT, "Field {value} not found in json", 400)
AUTH_REQUIRED = ErrorCode(12010, BAD_INPUT, 'This resource needs "Authorization" authorization headers', 401)
BAD_QUERY = ErrorCode(12012, BAD_INPUT, "Bad query parameters {value}", 400)
PAGE_NOT_FOUND = ErrorCode(12013, "Resource not found", "Page not found", 404)
BAD_CONTENT_TYPE = ErrorCode(12017, BAD_INPUT, "Bad content type", 400)
METHOD_NOT_ALLOWED = ErrorCode(12021, "Method not allowed", "Method not allowed", 405)
JSON_PATH_INVALID = ErrorCode(
    12022, BAD_INPUT, 'Failed to validate input json. Path: "{value}" message: "{value}"', 400
)
JSON_INVALID = ErrorCode(12027, BAD_INPUT, "Failed to validate input json. Message: {value}", 400)
BAD_INPUT_DATA = ErrorCode(12031, BAD_INPUT, "{value}", 400)
REQUEST_TIMEOUT = ErrorCode(
    37001, "Internal server error", "Service did not process the request within {value} seconds", 500
)
PAYLOAD_TOO_LARGE = ErrorCode(37003, "Request payload is too large", "Request payload is too large", 413)
HEALTHCHECK_ERROR = ErrorCode(38001, "Health check error", "Health check error {value}", 502)
WRONG_CREDENTIALS = ErrorCode(
    41006, "Account credentials wrong", "Account login or password are incorrect", 401
)
TOKEN_EXPIRED = ErrorCode(41007, "Account credentials wrong", "Token has been expired", 401)
VIDEO_DOWNLOAD_FAILED = ErrorCode(
    43001, "External request failed", 'Failed to download video by url "{value}"', 400
)
VIDEO_DECODER_INIT_FAILED = ErrorCode(
    43002, "Bad/incomplete configuration", 'Failed to initialize video decoder "{value}"', 500
)
VIDEO_FORMAT_UNSUPPORTED = ErrorCode(43003, BAD_INPUT, "Unsupported video format", 400)
VIDEO_DECODE_ERROR = ErrorCode(43004, BAD_INPUT, 'Error occurred while decoding video by url "{value}"', 400)
VIDEO_TOO_LARGE = ErrorCode(43005, BAD_INPUT, 'Video file by url "{value}" has too large size {value}', 400)
UNSUPPORTED_ANALYTICS = ErrorCode(43006, "Forbidden", "Unsupported analytics {value}", 403)
ANALYTICS_PROCESSING_FAILED = ErrorCode(
    43007, "Internal server error", "Video analytics processing failed: {value}", 500
)
ANALYTICS_BAD_INPUT = ErrorCode(43008, BAD_INPUT, "{value}", 400)
NO_AGENT_FOR_ANALYTICS = ErrorCode(
    44014,
    "Unprocessable content",
    "Failed to find agent that supports all analytics associated with the stream.",
    422,
)
NO_STREAMS_TO_PATCH = ErrorCode(
    44015, "Unable to patch streams", "No streams suitable for patching", 400
)
# Recognition: faces, lists, descriptors and matching (001 §11).
NO_FACES_FOUND = ErrorCode(4003, "No faces found", "No faces found", 400)
MULTIPLE_FACES = ErrorCode(11038, "Multiple faces found", "Multiple faces found in image {value} detect {value}", 400)
DESCRIPTOR_LENGTH = ErrorCode(12034, BAD_INPUT, "Descriptor has incorrect length {value}", 400)
DESCRIPTOR_VERSION_UNKNOWN = ErrorCode(12036, BAD_INPUT, "Descriptor version {value} is not registered in the system", 400)
SDK_DESCRIPTOR_INVALID = ErrorCode(12038, BAD_INPUT, "SDK descriptor is not valid", 400)
BASE64_INVALID = ErrorCode(18001, BAD_INPUT, "Failed convert data from base64 to bytes", 400)
IMAGE_INVALID = ErrorCode(18002, BAD_INPUT, "Failed convert bytes to {value}", 400)
MATCH_REFERENCE_INVALID = ErrorCode(
    22017, BAD_INPUT, "Match reference must be specified either as (descriptor) or (attribute_id) or (face_id)", 400
)
MATCH_VERSIONS_DIFFER = ErrorCode(31005, BAD_INPUT, "Matching between different versions {value} is not allowed", 400)
MATCH_LIMIT_EXCEEDED = ErrorCode(31007, BAD_INPUT, "Amount of specified/required references exceeds limit: {value}", 400)
MULTIPART_UNKNOWN_NAME = ErrorCode(12039, BAD_INPUT, 'Unknown multipart name "{value}"', 400)
MULTIPART_DUPLICATE_NAME = ErrorCode(12040, BAD_INPUT, 'Duplicate multipart name "{value}"', 400)
# Samples, temporary attributes and face attributes (001 §11.5, §11.12).
SAMPLE_NOT_FOUND = ErrorCode(11031, BAD_INPUT, "Sample with id {value} not found", 400)
FACE_WITHOUT_ATTRIBUTES = ErrorCode(11032, "Object not found", "Face with id {value} does not have attributes yet", 404)
MULTIPLE_BODIES = ErrorCode(11053, "Multiple human bodies found", "Multiple human bodies found on image {value} detect {value}", 400)
ATTRIBUTE_LINKED = ErrorCode(
    22001, "Unique constraint error", "Face with the same attribute_id already exists", 409
)
ATTRIBUTE_NOT_FOUND = ErrorCode(22011, "Object not found", "Attributes with id {value} not found", 404)
DESCRIPTOR_OF_VERSION_NOT_FOUND = ErrorCode(
    22018, "Object not found", 'Descriptor of version {value} is not found for object with id "{value}".', 404
)
ATTRIBUTE_EMPTY = ErrorCode(22022, BAD_INPUT, 'Attribute does not contain "descriptors" and "basic_attributes"', 400)
ATTRIBUTE_SAMPLES_WITHOUT_DATA = ErrorCode(
    22023, BAD_INPUT, 'Attribute contains "{value}" samples but corresponding attributes is empty', 400
)
ATTRIBUTE_VERSIONS_REPEATED = ErrorCode(
    22024, BAD_INPUT, 'Attribute contains descriptors of identical versions: "{value}"', 400
)
# Remote SDK (001 §11.30). LUNA's manual gives no HTTP status: 400, since a request naming an estimator
# this deployment lacks can never succeed, and a 5xx would invite retries.
ESTIMATOR_NOT_INITIALIZED = ErrorCode(
    200005, "Internal error", "{value} estimator was not initialized ({value})", 400
)
# Handlers (001 §11.19) and the lists their policies name (§11.12).
LISTS_NOT_FOUND = ErrorCode(22005, "Object not found", 'One or more lists not found including list with id "{value}"', 404)
HANDLER_NOT_FOUND = ErrorCode(34000, "Object not found", "Handler with id {value} not found", 404)
AGGREGATION_OF_DESCRIPTORS = ErrorCode(34003, BAD_INPUT, "Aggregation is not supported for raw descriptors", 400)
ONLY_DYNAMIC_HANDLER = ErrorCode(34007, "Forbidden", "Allowed use only dynamic handler", 403)
CANDIDATES_LIMIT_EXCEEDED = ErrorCode(34005, BAD_INPUT, "Candidates limit exceeded: {value} > {value}", 400)
LAMBDA_DISABLED = ErrorCode(11072, "Forbidden", "Luna Lambda service is disabled", 403)
# Image Store (001 §11.5, §11.7, §11.11): images, objects and samples, and their S3 backend.
IMAGE_CONTENT_TYPE_INVALID = ErrorCode(11028, BAD_INPUT, "Bad content type of image {value}", 400)
WARP_SIZE_INVALID = ErrorCode(11030, BAD_INPUT, "Image size is not equal to {value}", 400)  # LUNA: 250x250
IMAGE_NOT_FOUND = ErrorCode(13003, "Object not found", "Image with id {value} not found", 404)
STORED_OBJECT_NOT_FOUND = ErrorCode(13007, "Object not found", "Object with id {value} not found", 404)
S3_REQUEST_FAILED = ErrorCode(20005, "Internal server error", "Request to S3 Failed", 500)
S3_FORBIDDEN = ErrorCode(20006, "Internal server error", "Request to S3 Forbidden.", 500)
S3_REQUEST_TIMEOUT = ErrorCode(
    20007, "Internal server error", "Request time to S3 is longer than the established time", 500
)
S3_CONNECTION_REFUSED = ErrorCode(20008, "Internal server error", "S3 Connection Refused", 500)
S3_CONNECT_TIMEOUT = ErrorCode(
    20009, "Internal server error", "Connect time to S3 is longer than the established time", 500
)
# Tasks (001 §11.15).
SUBTASKS_NOT_SENT = ErrorCode(28000, "Network error", 'Cannot send subtasks to task_workers. Reason: "{value}"', 503)
TASK_NOT_FOUND = ErrorCode(28001, "Object not found", 'Task with id "{value}" not found', 404)
TASK_ERROR_NOT_FOUND = ErrorCode(28003, "Object not found", 'Task error with id "{value}" not found', 404)
CLUSTERING_SET_EMPTY = ErrorCode(28010, "Objects not found", "Objects for clustering not found (empty set)", 400)
REPORT_TASK_TYPE = ErrorCode(28013, BAD_INPUT, 'Tasks with type "{value}" does not support a build report', 400)
REPORT_COLUMN = ErrorCode(28014, BAD_INPUT, 'Column "{value}" not allowed in report by {value}', 400)
REPORT_TASK_STATUS = ErrorCode(28015, BAD_INPUT, 'Tasks with status "{value}" does not support a build report', 400)
REPORT_NO_RESULT = ErrorCode(28016, BAD_INPUT, "Clusterization task without result does not support a build report", 400)
TASK_RESULT_NOT_FOUND = ErrorCode(28017, "Object not found", 'Result of the task "{value}" not found', 404)
TASK_NO_RESULT_YET = ErrorCode(28018, "Object not found", 'Task "{value}" does not have result yet', 404)
TASK_NOT_CANCELLABLE = ErrorCode(28019, BAD_INPUT, 'Task "{value}" with status {value} cannot be canceled', 400)
TASK_RESULT_UNAVAILABLE = ErrorCode(28020, "Object not found", "Impossible get a result of task {value} with status {value}", 404)
EVENTS_SOURCE_UNSUPPORTED = ErrorCode(28021, "Forbidden", "Service does not support Luna Events as source for tasks", 403)
CROSS_MATCH_SET_EMPTY = ErrorCode(28022, "Objects not found", "{value} for cross-matching not found (empty set)", 400)
REFERENCE_MISSING = ErrorCode(28023, BAD_INPUT, "Reference uuid is missing: {value}", 400)
TASK_CANCELLED = ErrorCode(28025, "Task cancelled", 'Task "{value}" has been cancelled', 400)
ARCHIVE_READ_FAILED = ErrorCode(28026, BAD_INPUT, "Failed to read archive {value}", 400)
FILE_READ_FAILED = ErrorCode(28027, BAD_INPUT, "Failed to read file {value}", 400)
DIRECTORY_READ_FAILED = ErrorCode(28028, BAD_INPUT, "Failed to read directory {value}", 400)
SCHEDULE_NOT_FOUND = ErrorCode(28040, "Object not found", "Schedule with id {value} not found", 404)
CROSS_MATCH_GENERAL_LIMIT = ErrorCode(
    31002, BAD_INPUT, "Cross match filters presume too many received objects. Current general limit - {value}", 400
)
# Selene-only codes: LUNA is silent on these failures.
MESSAGE_INVALID = ErrorCode(45001, BAD_INPUT, "Message failed validation against {value}: {value}", 400)
MESSAGE_UNDECODABLE = ErrorCode(45002, BAD_INPUT, "Message could not be decoded: {value}", 400)
SINK_INSERT_FAILED = ErrorCode(45003, "Database error", "Rows could not be inserted into {value}: {value}", 500)
SERVICE_UNAVAILABLE = ErrorCode(45004, "Service Unavailable", "{value} is unavailable: {value}", 503)
# An agent reports this when a live stream's connection drops: it restarts without using up an attempt.
STREAM_CONNECTION_LOST = ErrorCode(45005, "Stream connection lost", "Connection to {value} lost: {value}", 500)
OBJECT_EXISTS = ErrorCode(45006, "Unique constraint error", "{value} already exists", 409)
# LUNA's text for decoding errors and read timeouts (RN v5.89); LUNA prints no code for it.
VIDEO_DECODING_FAILED = ErrorCode(
    45007, "Video decoding error", "An error occurred during stream/video decoding around {value} second: {value}", 500
)

# A face is a row of a descriptor collection: it cannot lose its descriptor (LUNA's faces can).
FACE_KEEPS_DESCRIPTOR = ErrorCode(
    45031, "Conflict input data", "Face {value} keeps its descriptor: delete the face or replace its attribute", 409
)
# A pending stream no agent can take now (none ready, none runs its analytics, or all are full): its last_error.
NO_FREE_AGENT = ErrorCode(45020, "Stream waits for an agent", "No agent can take the stream now: {value}", 503)
# HTTP client errors (001 §11.2), as the sender records an http callback's last failed attempt.
CLIENT_REQUEST_TIMEOUT = ErrorCode(9, "Internal server error", "Request timeout on {value} method {value}", 500)
CLIENT_CONNECTION_ERROR = ErrorCode(11, "Internal server error", "Server connection error {value}", 500)
CLIENT_RESPONSE_ERROR = ErrorCode(22, "Internal server error", "Client response error {value}", 500)
CLIENT_HTTP_ERROR = ErrorCode(23, "Internal server error", "HTTP client error {value}", 500)
# Sender (001 §11.16). LUNA's Sender reads Redis; Selene's reads the broker, named in 29005's detail. 29004
# (publish to a websocket failed) has no Selene use: a failed send means the client left, no one to tell.
SENDER_NO_ACCOUNT = ErrorCode(
    29001, "Forbidden", 'Cannot subscribe for events without "Luna-Account-Id" header set', 403
)
SENDER_SUBSCRIBE_FAILED = ErrorCode(29002, "Internal server error", "Failed to subscribe to chanel {value}", 500)
SENDER_MESSAGE_INVALID = ErrorCode(29003, "Internal server error", "Failed to process input message", 500)
SENDER_DISCONNECTED = ErrorCode(29005, "Service Unavailable", "{value} disconnected", 503)

ALL: tuple[ErrorCode, ...] = tuple(v for v in globals().values() if isinstance(v, ErrorCode))
BY_CODE: dict[int, ErrorCode] = {e.code: e for e in ALL}
