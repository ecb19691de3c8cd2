#!/usr/bin/python3
"""A whole checkout with kassa: code, order, result, with the session's signals.

Uses jeepney, a pure-Python D-Bus library (Debian: python3-jeepney).

    python3 checkout.py                  # kassad on the system bus
    python3 checkout.py --bus ADDRESS    # or on another bus

The checkout's signals (CodeScanned, OrderShown, Finished) go to this
connection alone. They are filtered here *before* BeginCheckout is called:
a quick scanner can read the code before the call has even returned, and a
filter set up afterwards would miss it.
"""
import argparse
import sys

from jeepney import DBusAddress, DBusErrorResponse, HeaderFields, MatchRule, message_bus, new_method_call
from jeepney.io.blocking import open_dbus_connection

SERVICE = "org.kassa.Terminal1"
TERMINAL = DBusAddress("/org/kassa/Terminal1", bus_name=SERVICE, interface="org.kassa.Terminal1")

# What to tell the cashier for each error kassad can answer.
ADVICE = {
    "org.kassa.Error.Busy": "another checkout is running; wait for it or cancel it",
    "org.kassa.Error.NoDevice": "no scanner is connected; check the cable (kassactl devices)",
    "org.kassa.Error.InvalidArgument": "this program sent a bad option",
    "org.kassa.Error.InvalidOrder": "the order was refused; the message names the field",
    "org.kassa.Error.AccessDenied": "this checkout belongs to another program",
    "org.kassa.Error.Timeout": "no answer in time",
    "org.kassa.Error.Cancelled": "the checkout was cancelled",
    "org.freedesktop.DBus.Error.ServiceUnknown": "kassad is not running",
    "org.freedesktop.DBus.Error.AccessDenied": "this user may not call kassad (join group kassa)",
}


def call(conn, address, method, signature=None, body=()):
    """Calls a method and returns its reply's body; D-Bus errors raise."""
    return conn.send_and_get_reply(new_method_call(address, method, signature, body), timeout=30).body


def next_signal(conn, signals, path, timeout):
    """The next signal of the checkout at `path`: (member, body)."""
    while True:
        msg = conn.recv_until_filtered(signals, timeout=timeout)
        if msg.header.fields.get(HeaderFields.path) == path:
            return msg.header.fields[HeaderFields.member], msg.body


def checkout(conn, amount):
    # Signals carry the sender's unique name (":1.42"), not the service's:
    # accept them only from the connection that owns org.kassa.Terminal1.
    (kassad,) = call(conn, message_bus, "GetNameOwner", "s", (SERVICE,))
    rule = MatchRule(type="signal", sender=kassad, interface="org.kassa.Checkout1")
    with conn.filter(rule, bufsize=16) as signals:
        options = {"amount": ("x", amount), "timeout_ms": ("u", 60000)}
        (path,) = call(conn, TERMINAL, "BeginCheckout", "a{sv}", (options,))
        session = DBusAddress(path, bus_name=SERVICE, interface="org.kassa.Checkout1")
        print(f"checkout {path}: waiting for the customer's code")

        member, body = next_signal(conn, signals, path, timeout=70)
        if member == "Finished":
            state, message = body
            print(f"checkout ended before a code: {state}: {message}")
            return 1
        code, channel, source = body
        print(f"{channel} code from {source}: ...{code[-4:]}")

        # The POS charges the code at its payment platform and shows the
        # order meanwhile (a backend in kassa.toml can bind it instead).
        order = ('{"id": "A-1001", "currency": "CNY", "items": [{"name": "Latte",'
                 ' "quantity": "2", "unit_price": %d, "total": %d}], "total": %d}'
                 % (amount // 2, amount // 2 * 2, amount // 2 * 2))
        call(conn, TERMINAL, "ShowOrder", "s", (order,))
        call(conn, session, "Finish", "ss", ("paid", "Thank you"))
        while True:
            member, body = next_signal(conn, signals, path, timeout=30)
            if member == "Finished":
                state, message = body
                print(f"checkout finished: {state}")
                return 0 if state == "paid" else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus", default="SYSTEM", help="SYSTEM, SESSION or a bus address")
    parser.add_argument("--amount", type=int, default=3600, help="amount due in minor units (fen)")
    args = parser.parse_args()
    try:
        with open_dbus_connection(bus=args.bus) as conn:
            return checkout(conn, args.amount)
    except DBusErrorResponse as e:
        message = e.data[0] if e.data else ""
        print(f"{e.name}: {message} ({ADVICE.get(e.name, 'see docs/dbus-api.md')})", file=sys.stderr)
        return 1
    except TimeoutError:
        print("kassad sent nothing in time", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
