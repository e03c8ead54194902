/**
 * @hexmesh/storage: the storage provider agent (piece store, HTTP API, chain loop) and the client's
 * upload, download and deal functions. See README.md.
 */
export * from "./agent.js";
export * from "./client.js";
export * from "./config.js";
export * from "./deal.js";
export * from "./errors.js";
export * from "./keys.js";
export * from "./parallel.js";
export * from "./provider.js";
export * from "./server.js";
export * from "./state.js";
export * from "./store.js";
export { FIRST_STORED_LEVEL } from "./tree-layout.js";
