// A whole checkout with kassa from Node.js, with dbus-next (npm), written
// the way dbus-next is usually written: begin the checkout, build a proxy
// for the session, then attach signal handlers.
//
// A quick scanner can read the code before the handler is attached, so
// the code is taken with the session's TakeCode() method, which returns it
// whether it was read before or after the call. The Finished handler is
// attached before Finish is called, so it cannot be missed.
//
//     npm ci && node checkout.mjs                 # kassad on the system bus
//     node checkout.mjs --bus ADDRESS             # or on another bus
import dbus from 'dbus-next';

const SERVICE = 'org.kassa.Terminal1';

async function checkout(bus, amount) {
  const terminal = (await bus.getProxyObject(SERVICE, '/org/kassa/Terminal1'))
    .getInterface('org.kassa.Terminal1');
  // 'x' (int64) and 'u' (uint32): int64 values are BigInts in dbus-next.
  const path = await terminal.BeginCheckout({
    amount: new dbus.Variant('x', BigInt(amount)),
    timeout_ms: new dbus.Variant('u', 60000),
  });
  const session = (await bus.getProxyObject(SERVICE, path)).getInterface('org.kassa.Checkout1');
  const finished = new Promise((resolve) => session.on('Finished', (state) => resolve(state)));
  console.log(`checkout ${path}: waiting for the customer's code`);

  const [code, channel, source] = await session.TakeCode();
  console.log(`${channel} code from ${source}: ...${code.slice(-4)}`);

  // The POS charges the code at its payment platform and shows the order
  // meanwhile (a backend in kassa.toml can bind it instead).
  await terminal.ShowOrder(JSON.stringify({
    id: 'A-1001', currency: 'CNY', total: amount,
    items: [{ name: 'Latte', quantity: '1', unit_price: amount, total: amount }],
  }));
  await session.Finish('paid', 'Thank you');
  const state = await finished;
  console.log(`checkout finished: ${state}`);
  return state === 'paid' ? 0 : 1;
}

const at = process.argv.indexOf('--bus');
const bus = at > 0 ? dbus.sessionBus({ busAddress: process.argv[at + 1] }) : dbus.systemBus();
try {
  process.exitCode = await checkout(bus, 3600);
} catch (e) {
  // e.type is the error's name: org.kassa.Error.Busy, .NoDevice, .Timeout,
  // .Cancelled, .AccessDenied, … (docs/dbus-api.md).
  console.error(e.type ? `${e.type}: ${e.text}` : String(e));
  process.exitCode = 1;
} finally {
  bus.disconnect();
}
