#!/usr/bin/python3
"""A POS program's first call to kassa: ask for the customer's payment code.

Uses jeepney, a pure-Python D-Bus library (Debian: python3-jeepney).

    python3 scan_payment_code.py                 # kassad on the system bus
    python3 scan_payment_code.py --bus ADDRESS   # or on another bus
"""
import argparse
import sys

from jeepney import DBusAddress, DBusErrorResponse, new_method_call
from jeepney.io.blocking import open_dbus_connection

KASSA = DBusAddress("/org/kassa/Terminal1", bus_name="org.kassa.Terminal1",
                    interface="org.kassa.Terminal1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus", default="SYSTEM", help="SYSTEM, SESSION or a bus address")
    parser.add_argument("--amount", type=int, default=3600, help="amount due in minor units (fen)")
    args = parser.parse_args()

    with open_dbus_connection(bus=args.bus) as conn:
        # Show "please present your payment code — ¥36.00" and wait for the code.
        options = {"amount": ("x", args.amount), "timeout_ms": ("u", 60000)}
        call = new_method_call(KASSA, "ScanPaymentCode", "a{sv}", (options,))
        try:
            code, channel, source = conn.send_and_get_reply(call, timeout=70).body
        except DBusErrorResponse as e:
            # e.name is org.kassa.Error.Timeout, .Busy, .NoDevice, ...
            print(f"no code: {e.name}: {e.data[0] if e.data else ''}", file=sys.stderr)
            return 1
        print(f"{channel} code from {source}: ...{code[-4:]}")

        # The POS binds the code to its order at its backend, then shows it.
        order = ('{"id": "A-1001", "currency": "CNY", "items": [{"name": "拿铁 Latte",'
                 ' "quantity": "2", "unit_price": 1800, "total": 3600}], "total": 3600}')
        conn.send_and_get_reply(new_method_call(KASSA, "ShowOrder", "s", (order,)), timeout=10)
        conn.send_and_get_reply(
            new_method_call(KASSA, "ShowPaymentResult", "ss", ("paid", "Thank you")), timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
