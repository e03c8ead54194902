/**
 * @hexmesh/sim: simulated fleets (real keys on H3 cells, signed reports) for the demo and the tests,
 * and the network simulator behind the fraud-detection report (docs/sim/report.md).
 */
export * from "./fleet.js";
export * from "./live.js";
export * from "./radio.js";
export * from "./world.js";
export * from "./network.js";
export * from "./analysis.js";
export * from "./report.js";
export * from "./usage.js";
export * from "./usage-report.js";
export * from "./markets.js";
export * from "./markets-report.js";
