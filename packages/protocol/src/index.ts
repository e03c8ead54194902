/**
 * @hexmesh/protocol: what a device, an oracle, a wallet and a browser must agree on. No I/O; runs in
 * a browser bundle unchanged (device signers for Node are in `@hexmesh/protocol/node`).
 */
export * from "./hex.js";
export * from "./config-errors.js";
export { keccak256, keccak256Into, Keccak256Stream } from "./crypto/keccak.js";
export * from "./keys.js";
export * from "./eip712/typed-data.js";
export * from "./eip712/registry.js";
export * from "./eip712/distributor.js";
export * from "./eip712/token.js";
export * from "./eip712/credits.js";
export * from "./reports/types.js";
export * from "./reports/eip712.js";
export * from "./reports/sign.js";
export * from "./reports/wire.js";
export * from "./entropy/entropy.js";
export * from "./entropy/payload.js";
export * from "./radio/physics.js";
export * from "./radio/regions.js";
export type * from "./chain/types.js";
export * from "./chain/view.js";
export * from "./rewards/fixed.js";
export * from "./rewards/hip15.js";
export * from "./rewards/density.js";
export * from "./rewards/payout.js";
export * from "./rewards/limbs.js";
export * from "./rewards/weighting.js";
export * from "./rewards/usage.js";
export * from "./commit/encoding.js";
export * from "./commit/merkle.js";
export * from "./commit/commit.js";
export * from "./work.js";
export * from "./epoch.js";
export * from "./commit/decode.js";
export * from "./commit/audit.js";
export * from "./receipts/types.js";
export * from "./receipts/receipt.js";
export * from "./commit/reconcile.js";
export * from "./storage/piece.js";
export * from "./storage/challenge.js";
export * from "./storage/retrieval.js";
export * from "./storage/range.js";
export * from "./compute/spec.js";
export * from "./compute/spotcheck.js";
export * from "./compute/units.js";
export * from "./compute/verdict.js";
