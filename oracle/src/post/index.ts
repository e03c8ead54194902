/** Signing, aggregating and posting EpochRoots, and serving claims. Needs the typechain bindings. */
export * from "./sign.js";
export * from "./aggregator.js";
export * from "./claims.js";
export * from "./node.js";
