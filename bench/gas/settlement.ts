import { network } from "hardhat";

import { measureSettlementGas } from "../../test/helpers/settlement.js";
import type { GasBench } from "./types.js";

/** Data-transfer settlement gas; the scenario is in test/helpers/settlement.ts (shared with the budget test). */
const bench: GasBench = async () => {
  const { ethers } = await network.create();
  return measureSettlementGas(ethers);
};
export default bench;
