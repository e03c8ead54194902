/** The storage oracle's modules (README: docs/storage.md, "The storage oracle"). */
export * from "./agree.js";
export * from "./indexer.js";
export * from "./keeper.js";
export * from "./probe.js";
export * from "./score.js";
export * from "./service.js";
export * from "./sql.js";
export * from "./store.js";
export * from "./suspend.js";
export * from "./verifier.js";
