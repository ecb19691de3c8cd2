// A whole checkout with kassa from Java: code, order, result, with the
// session's signals. Uses Debian's dbus-java 2.8 (apt install
// default-jdk-headless libdbus-java).
//
//     javac -cp /usr/share/java/dbus.jar -d build Checkout.java
//     java -cp build:/usr/share/java/dbus.jar:/usr/share/java/debug-disable.jar \
//         example.Checkout                  # kassad on the system bus
//     java -cp ... example.Checkout --bus ADDRESS   # or on another bus
//
// The checkout's signals (CodeScanned, OrderShown, Finished) go to this
// connection alone. Their handlers are added *before* BeginCheckout is
// called: a quick scanner can read the code before the call has even
// returned, and a handler added afterwards would miss it.
//
// dbus-java wants signals declared in an interface that is in a package,
// hence the package; debug-disable.jar is a run-time dependency of dbus.jar
// that its manifest does not name.
package example;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.freedesktop.DBus;
import org.freedesktop.dbus.DBusConnection;
import org.freedesktop.dbus.DBusInterface;
import org.freedesktop.dbus.DBusInterfaceName;
import org.freedesktop.dbus.DBusSignal;
import org.freedesktop.dbus.Path;
import org.freedesktop.dbus.UInt32;
import org.freedesktop.dbus.Variant;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;

public final class Checkout {
    static final String SERVICE = "org.kassa.Terminal1";

    /** The part of org.kassa.Terminal1 a checkout uses (docs/dbus-api.md). */
    @DBusInterfaceName("org.kassa.Terminal1")
    public interface Terminal1 extends DBusInterface {
        Path BeginCheckout(Map<String, Variant<?>> options);

        void ShowOrder(String orderJson);
    }

    /** org.kassa.Checkout1, one session object per BeginCheckout. */
    @DBusInterfaceName("org.kassa.Checkout1")
    public interface Checkout1 extends DBusInterface {
        void Finish(String status, String message);

        class CodeScanned extends DBusSignal {
            public final String code;
            public final String channel;
            public final String source;

            public CodeScanned(String path, String code, String channel, String source)
                    throws DBusException {
                super(path, code, channel, source);
                this.code = code;
                this.channel = channel;
                this.source = source;
            }
        }

        class Finished extends DBusSignal {
            public final String state;
            public final String message;

            public Finished(String path, String state, String message) throws DBusException {
                super(path, state, message);
                this.state = state;
                this.message = message;
            }
        }
    }

    // What to tell the cashier for each error kassad can answer.
    static final Map<String, String> ADVICE = Map.of(
            "org.kassa.Error.Busy", "another checkout is running; wait for it or cancel it",
            "org.kassa.Error.NoDevice", "no scanner is connected; check the cable (kassactl devices)",
            "org.kassa.Error.InvalidArgument", "this program sent a bad option",
            "org.kassa.Error.InvalidOrder", "the order was refused; the message names the field",
            "org.kassa.Error.AccessDenied", "this checkout belongs to another program",
            "org.kassa.Error.Timeout", "no answer in time",
            "org.kassa.Error.Cancelled", "the checkout was cancelled",
            "org.freedesktop.DBus.Error.NameHasNoOwner", "kassad is not running",
            "org.freedesktop.DBus.Error.ServiceUnknown", "kassad is not running",
            "org.freedesktop.DBus.Error.AccessDenied", "this user may not call kassad (join group kassa)");

    /** The next signal of the checkout at {@code path}. */
    static DBusSignal nextSignal(BlockingQueue<DBusSignal> signals, String path, long seconds)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            DBusSignal signal = signals.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (signal == null) {
                throw new TimeoutException();
            }
            if (signal.getPath().equals(path)) {
                return signal;
            }
        }
    }

    static int checkout(DBusConnection bus, long amount)
            throws DBusException, InterruptedException, TimeoutException {
        // Signals carry the sender's unique name (":1.42"), not the
        // service's, and dbus-java takes only a unique name as a signal's
        // source: handle them only from the connection that owns
        // org.kassa.Terminal1.
        DBus daemon = bus.getRemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", DBus.class);
        String kassad = daemon.GetNameOwner(SERVICE);
        // Handlers run on dbus-java's threads; this one reads the queue.
        BlockingQueue<DBusSignal> signals = new LinkedBlockingQueue<>();
        bus.addSigHandler(Checkout1.CodeScanned.class, kassad, signals::add);
        bus.addSigHandler(Checkout1.Finished.class, kassad, signals::add);

        Terminal1 terminal = bus.getRemoteObject(SERVICE, "/org/kassa/Terminal1", Terminal1.class);
        // A Long is sent as x (int64), a UInt32 as u.
        Map<String, Variant<?>> options = Map.of(
                "amount", new Variant<>(amount),
                "timeout_ms", new Variant<>(new UInt32(60000)));
        String path = terminal.BeginCheckout(options).toString();
        Checkout1 session = bus.getRemoteObject(SERVICE, path, Checkout1.class);
        System.out.println("checkout " + path + ": waiting for the customer's code");

        DBusSignal first = nextSignal(signals, path, 70);
        if (first instanceof Checkout1.Finished ended) {
            System.out.println("checkout ended before a code: " + ended.state + ": " + ended.message);
            return 1;
        }
        Checkout1.CodeScanned scanned = (Checkout1.CodeScanned) first;
        String code = scanned.code;
        String last4 = code.substring(Math.max(0, code.length() - 4));
        System.out.println(scanned.channel + " code from " + scanned.source + ": ..." + last4);

        // The POS charges the code at its payment platform and shows the
        // order meanwhile (a backend in kassa.toml can bind it instead).
        String order = String.format(
                "{\"id\": \"A-1001\", \"currency\": \"CNY\", \"items\": [{\"name\": \"Latte\","
                        + " \"quantity\": \"1\", \"unit_price\": %d, \"total\": %d}], \"total\": %d}",
                amount, amount, amount);
        terminal.ShowOrder(order);
        session.Finish("paid", "Thank you");
        while (true) {
            if (nextSignal(signals, path, 30) instanceof Checkout1.Finished finished) {
                System.out.println("checkout finished: " + finished.state);
                return finished.state.equals("paid") ? 0 : 1;
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        String address = null;
        long amount = 3600; // minor units (fen): 36.00 yuan
        for (int i = 0; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (args[i].equals("--bus") && value != null) {
                address = value;
            } else if (args[i].equals("--amount") && value != null) {
                amount = Long.parseLong(value);
            } else {
                System.err.println("usage: example.Checkout [--bus ADDRESS] [--amount MINOR_UNITS]");
                System.exit(2);
            }
        }
        int status = 1;
        DBusConnection bus = null;
        try {
            bus = address == null
                    ? DBusConnection.getConnection(DBusConnection.SYSTEM)
                    : DBusConnection.getConnection(address);
            status = checkout(bus, amount);
        } catch (DBusExecutionException e) {
            // A call failed: getType() is the error's D-Bus name.
            String name = e.getType();
            System.err.println(name + ": " + e.getMessage() + " ("
                    + ADVICE.getOrDefault(name, "see docs/dbus-api.md") + ")");
        } catch (DBusException e) {
            // Connecting failed (or dbus-java refused a handler).
            System.err.println("D-Bus: " + e.getMessage());
        } catch (TimeoutException e) {
            System.err.println("kassad sent nothing in time");
        } finally {
            if (bus != null) {
                bus.disconnect();
            }
        }
        System.exit(status);
    }
}
