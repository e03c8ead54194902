/** @hexmesh/hotspot: the device side of Hexmesh Proof of Coverage (library; CLI in cli.ts). */
export * from "./agent.js";
export * from "./config.js";
export * from "./key.js";
export * from "./onboarding.js";
export * from "./queue.js";
export * from "./service.js";
export * from "./radio/adapter.js";
export * from "./radio/loopback.js";
export * from "./radio/semtech-udp.js";
