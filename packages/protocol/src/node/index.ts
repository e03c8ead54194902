/** Node-only part of @hexmesh/protocol: device signers, piece roots of files. */
export * from "./signers.js";
export * from "./router.js";
export * from "./piece-file.js";
