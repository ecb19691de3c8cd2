#!/usr/bin/python3
"""A whole checkout with kassa from asyncio, with dbus-next (Debian:
python3-dbus-next), written the way dbus-next is usually written: begin the
checkout, build a proxy for the session, then attach signal handlers.

A quick scanner can read the code before the handler is attached, so the
code is taken with the session's TakeCode() method, which returns it
whether it was read before or after the call. The Finished signal is
subscribed before Finish is called, so it cannot be missed.

    python3 checkout_asyncio.py                  # kassad on the system bus
    python3 checkout_asyncio.py --bus ADDRESS    # or on another bus
"""
import argparse
import asyncio
import sys

from dbus_next import BusType, Variant
from dbus_next.aio import MessageBus
from dbus_next.errors import DBusError

SERVICE = "org.kassa.Terminal1"


async def interface(bus, path, name):
    introspection = await bus.introspect(SERVICE, path)
    return bus.get_proxy_object(SERVICE, path, introspection).get_interface(name)


async def checkout(bus, amount):
    terminal = await interface(bus, "/org/kassa/Terminal1", "org.kassa.Terminal1")
    path = await terminal.call_begin_checkout(
        {"amount": Variant("x", amount), "timeout_ms": Variant("u", 60000)})
    session = await interface(bus, path, "org.kassa.Checkout1")
    finished = asyncio.get_running_loop().create_future()
    session.on_finished(lambda state, message: finished.done() or finished.set_result(state))
    print(f"checkout {path}: waiting for the customer's code")

    code, channel, source = await session.call_take_code()
    print(f"{channel} code from {source}: ...{code[-4:]}")

    # The POS charges the code at its payment platform and shows the order
    # meanwhile (a backend in kassa.toml can bind it instead).
    order = ('{"id": "A-1001", "currency": "CNY", "items": [{"name": "Latte",'
             ' "quantity": "1", "unit_price": %d, "total": %d}], "total": %d}'
             % (amount, amount, amount))
    await terminal.call_show_order(order)
    await session.call_finish("paid", "Thank you")
    state = await asyncio.wait_for(finished, timeout=30)
    print(f"checkout finished: {state}")
    return 0 if state == "paid" else 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus", help="a bus address (default: the system bus)")
    parser.add_argument("--amount", type=int, default=3600, help="amount due in minor units (fen)")
    args = parser.parse_args()
    try:
        if args.bus:
            bus = await MessageBus(bus_address=args.bus).connect()
        else:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        try:
            return await checkout(bus, args.amount)
        finally:
            bus.disconnect()
    except DBusError as e:
        # e.type is the error's name: org.kassa.Error.Busy, .NoDevice,
        # .Timeout, .Cancelled, .AccessDenied, … (docs/dbus-api.md).
        print(f"{e.type}: {e.text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
