/** Node-only part of @hexmesh/protocol: device signers. */
export * from "./signers.js";
export * from "./router.js";
