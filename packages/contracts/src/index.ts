/**
 * @hexmesh/contracts: typed ethers v6 bindings of the deployed Hexmesh contracts (ABI only), for
 * off-chain programs. Generated from the Hardhat build by scripts/export-bindings.ts.
 */
export * from "./generated/index.js";
export type { TypedContractEvent, TypedEventLog, TypedListener } from "./generated/common.js";
export * from "./errors.js";
