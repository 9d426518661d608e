"""LUNA's Sender: every event a handler generates, from ``selene.event-notifications``, to the ``/6/ws``
subscribers whose handshake filters it meets (through the handler's ``luna-ws-notification``
callbacks) and to the handler's ``http`` callbacks, with bounded retries and a dead letter after the
last attempt."""
