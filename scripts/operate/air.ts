/**
 * `npx tsx scripts/operate/air.ts --ports 1701,1702 [--distance 1200] [--gain 3]`: packet forwarders
 * simulated over UDP on localhost, one per agent port (the agents' `radio.port`), linked by the air
 * (see forwarder.ts). Sends PULL_DATA every 5 s as a real forwarder keeps its downlink open; runs until
 * SIGINT/SIGTERM; prints one line per transmission it carries.
 */
import { parseArgs } from "node:util";

import { linkByAir } from "./forwarder.js";

const { values } = parseArgs({
  options: {
    ports: { type: "string" },
    distance: { type: "string", default: "1200" },
    gain: { type: "string", default: "3" },
  },
});
const ports = (values.ports ?? "").split(",").map(Number);
if (ports.length < 2 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65_535)) {
  console.error("--ports needs two or more agent UDP ports, e.g. --ports 1701,1702");
  process.exit(2);
}
const forwarders = linkByAir(ports, Number(values.distance), Number(values.gain), (from, txpk) =>
  console.log(JSON.stringify({ from: ports[from], freq: txpk.freq, datr: txpk.datr, size: txpk.size })),
);
const pull = () => forwarders.forEach((f) => f.pull());
pull();
const timer = setInterval(pull, 5_000);
const stop = () => {
  clearInterval(timer);
  forwarders.forEach((f) => f.close());
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
