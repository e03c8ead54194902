import { network } from "hardhat";

import { measureComputeGas } from "../../test/helpers/compute.js";
import type { GasBench } from "./types.js";

/** Compute jobs gas; the scenario is in test/helpers/compute.ts (shared with the budget test). */
const bench: GasBench = async () => {
  const { ethers, networkHelpers } = await network.create();
  return measureComputeGas(ethers, networkHelpers);
};
export default bench;
