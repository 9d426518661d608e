"""The sender as a process holds it: the /6/ws subscribers with their feed, and the http callbacks.
Each half is a Service of its own (explicit start, wait, stop), so the API restarts one that fails."""

from __future__ import annotations

from analytics.sender.callbacks import CallbackDelivery
from analytics.sender.fanout import WsFanout
from analytics.sender.subscribers import Subscribers
from infra.lifecycle import Service
from infra.settings import SenderSettings


class Sender:
    def __init__(self, bootstrap: str, group_id: str, settings: SenderSettings) -> None:
        self.subscribers = Subscribers(settings.ws_queue_size)
        self.fanout = WsFanout(bootstrap, self.subscribers)
        self.callbacks = CallbackDelivery(bootstrap, group_id, settings)

    def services(self) -> tuple[Service, Service]:
        return (
            Service(self.fanout.name, self.fanout.start, self.fanout.wait, self.fanout.stop),
            Service(self.callbacks.name, self.callbacks.start, self.callbacks.wait, self.callbacks.stop),
        )

    async def start(self) -> None:
        await self.fanout.start()
        try:
            await self.callbacks.start()
        except BaseException:
            await self.fanout.stop()
            raise

    async def stop(self) -> None:
        await self.callbacks.stop()
        await self.fanout.stop()
