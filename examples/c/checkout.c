/* A whole checkout with kassa from C: code, order, result, with the
 * session's signals. Uses sd-bus from libsystemd (Debian: libsystemd-dev).
 *
 *     cc -o checkout checkout.c $(pkg-config --cflags --libs libsystemd)
 *     ./checkout                  # kassad on the system bus
 *     ./checkout --bus ADDRESS    # or on another bus
 *
 * The checkout's signals (CodeScanned, OrderShown, Finished) go to this
 * connection alone. The match for them is added *before* BeginCheckout is
 * called: a quick scanner can read the code before the call has even
 * returned, and a match added afterwards would miss it. (sd_bus_call keeps
 * what arrives meanwhile for sd_bus_process.)
 */
#define _POSIX_C_SOURCE 200809L /* strdup, clock_gettime */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define SERVICE "org.kassa.Terminal1"
#define TERMINAL "/org/kassa/Terminal1"

/* What to tell the cashier for each error kassad can answer. */
static const struct {
	const char *name;
	const char *advice;
} ADVICE[] = {
	{ "org.kassa.Error.Busy", "another checkout is running; wait for it or cancel it" },
	{ "org.kassa.Error.NoDevice", "no scanner is connected; check the cable (kassactl devices)" },
	{ "org.kassa.Error.InvalidArgument", "this program sent a bad option" },
	{ "org.kassa.Error.InvalidOrder", "the order was refused; the message names the field" },
	{ "org.kassa.Error.AccessDenied", "this checkout belongs to another program" },
	{ "org.kassa.Error.Timeout", "no answer in time" },
	{ "org.kassa.Error.Cancelled", "the checkout was cancelled" },
	{ "org.freedesktop.DBus.Error.NameHasNoOwner", "kassad is not running" },
	{ "org.freedesktop.DBus.Error.ServiceUnknown", "kassad is not running" },
	{ "org.freedesktop.DBus.Error.AccessDenied", "this user may not call kassad (join group kassa)" },
};

static const char *advice(const char *name) {
	for (size_t i = 0; i < sizeof ADVICE / sizeof ADVICE[0]; i++)
		if (name && strcmp(ADVICE[i].name, name) == 0)
			return ADVICE[i].advice;
	return "see docs/dbus-api.md";
}

/* One checkout, as its signals tell it. */
struct session {
	const char *path; /* set once BeginCheckout returned */
	char *code, *channel, *source; /* from CodeScanned */
	char *state, *message; /* from Finished */
};

static int on_checkout_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct session *s = userdata;
	const char *a, *b, *c;
	int r;

	(void) ret_error;
	/* The match takes every checkout's signals from kassad; keep this one's. */
	if (!s->path || strcmp(sd_bus_message_get_path(m), s->path) != 0)
		return 0;
	if (sd_bus_message_is_signal(m, NULL, "CodeScanned") && !s->code) {
		r = sd_bus_message_read(m, "sss", &a, &b, &c);
		if (r < 0)
			return r;
		s->code = strdup(a);
		s->channel = strdup(b);
		s->source = strdup(c);
		if (!s->code || !s->channel || !s->source)
			return -ENOMEM;
	} else if (sd_bus_message_is_signal(m, NULL, "Finished") && !s->state) {
		r = sd_bus_message_read(m, "ss", &a, &b);
		if (r < 0)
			return r;
		s->state = strdup(a);
		s->message = strdup(b);
		if (!s->state || !s->message)
			return -ENOMEM;
	}
	return 0;
}

static bool scanned_or_ended(const struct session *s) {
	return s->code || s->state;
}

static bool ended(const struct session *s) {
	return s->state;
}

static uint64_t now_usec(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Dispatches messages until `done(s)`; -ETIMEDOUT after `seconds`. */
static int process_until(sd_bus *bus, const struct session *s,
                         bool (*done)(const struct session *), unsigned seconds) {
	uint64_t deadline = now_usec() + (uint64_t) seconds * 1000000;
	for (;;) {
		int r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (done(s))
			return 0;
		if (r > 0)
			continue;
		uint64_t now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0)
			return r;
	}
}

static int checkout(sd_bus *bus, int64_t amount, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *owner = NULL, *begun = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL;
	struct session s = { 0 };
	const char *kassad, *path;
	char order[512];
	size_t n;
	int r;

	/* Signals carry the sender's unique name (":1.42"), not the service's:
	 * accept them only from the connection that owns org.kassa.Terminal1. */
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	                       "org.freedesktop.DBus", "GetNameOwner", error, &owner, "s", SERVICE);
	if (r < 0)
		return r;
	r = sd_bus_message_read(owner, "s", &kassad);
	if (r < 0)
		return r;
	r = sd_bus_match_signal(bus, &match, kassad, NULL, "org.kassa.Checkout1", NULL,
	                        on_checkout_signal, &s);
	if (r < 0)
		return r;

	/* a{sv}: the number of entries, then each key, type and value. */
	r = sd_bus_call_method(bus, SERVICE, TERMINAL, "org.kassa.Terminal1", "BeginCheckout",
	                       error, &begun, "a{sv}", 2,
	                       "amount", "x", amount,
	                       "timeout_ms", "u", (uint32_t) 60000);
	if (r < 0)
		return r;
	r = sd_bus_message_read(begun, "o", &path);
	if (r < 0)
		return r;
	s.path = path;
	printf("checkout %s: waiting for the customer's code\n", path);

	r = process_until(bus, &s, scanned_or_ended, 70);
	if (r < 0)
		goto out;
	if (!s.code) {
		printf("checkout ended before a code: %s: %s\n", s.state, s.message);
		r = 1;
		goto out;
	}
	n = strlen(s.code);
	printf("%s code from %s: ...%s\n", s.channel, s.source, s.code + (n > 4 ? n - 4 : 0));

	/* The POS charges the code at its payment platform and shows the order
	 * meanwhile (a backend in kassa.toml can bind it instead). */
	snprintf(order, sizeof order,
	         "{\"id\": \"A-1001\", \"currency\": \"CNY\", \"items\": [{\"name\": \"Latte\","
	         " \"quantity\": \"1\", \"unit_price\": %" PRId64 ", \"total\": %" PRId64 "}],"
	         " \"total\": %" PRId64 "}",
	         amount, amount, amount);
	r = sd_bus_call_method(bus, SERVICE, TERMINAL, "org.kassa.Terminal1", "ShowOrder",
	                       error, NULL, "s", order);
	if (r < 0)
		goto out;
	r = sd_bus_call_method(bus, SERVICE, path, "org.kassa.Checkout1", "Finish",
	                       error, NULL, "ss", "paid", "Thank you");
	if (r < 0)
		goto out;
	r = process_until(bus, &s, ended, 30);
	if (r < 0)
		goto out;
	printf("checkout finished: %s\n", s.state);
	r = strcmp(s.state, "paid") == 0 ? 0 : 1;
out:
	free(s.code);
	free(s.channel);
	free(s.source);
	free(s.state);
	free(s.message);
	return r;
}

static int open_bus(const char *address, sd_bus **ret) {
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	if (!address)
		return sd_bus_open_system(ret);
	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, address);
	if (r < 0)
		return r;
	r = sd_bus_set_bus_client(bus, 1);
	if (r < 0)
		return r;
	r = sd_bus_start(bus);
	if (r < 0)
		return r;
	*ret = bus;
	bus = NULL;
	return 0;
}

int main(int argc, char *argv[]) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *address = NULL;
	int64_t amount = 3600; /* minor units (fen): ¥36.00 */
	int r;

	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--bus") == 0 && i + 1 < argc)
			address = argv[i + 1];
		else if (strcmp(argv[i], "--amount") == 0 && i + 1 < argc)
			amount = strtoll(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "usage: %s [--bus ADDRESS] [--amount MINOR_UNITS]\n", argv[0]);
			return 2;
		}
	}

	r = open_bus(address, &bus);
	if (r < 0) {
		fprintf(stderr, "cannot connect to the bus: %s\n", strerror(-r));
		return 1;
	}
	r = checkout(bus, amount, &error);
	if (r >= 0)
		return r;
	if (sd_bus_error_is_set(&error))
		/* A call failed: error.name is the error's D-Bus name. */
		fprintf(stderr, "%s: %s (%s)\n", error.name, error.message, advice(error.name));
	else if (r == -ETIMEDOUT)
		fprintf(stderr, "kassad sent nothing in time\n");
	else
		fprintf(stderr, "D-Bus: %s\n", strerror(-r));
	return 1;
}
