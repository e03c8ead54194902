/** The compute oracle's modules (docs/compute.md, "The compute oracle"). */
export * from "./benchmark.js";
export * from "./check.js";
export * from "./indexer.js";
export * from "./inputs.js";
export * from "./service.js";
export * from "./store.js";
export * from "./verdicts.js";
export * from "./verifier.js";
export * from "./withheld.js";
