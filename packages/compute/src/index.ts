export * from "./errors.js";
export * from "./examples.js";
export * from "./program.js";
export * from "./runner.js";
export * from "./store.js";
