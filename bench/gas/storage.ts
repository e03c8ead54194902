import { network } from "hardhat";

import { measureStorageGas } from "../../test/helpers/storage.js";
import type { GasBench } from "./types.js";

/** Storage deals gas; the scenario is in test/helpers/storage.ts (shared with the budget test). */
const bench: GasBench = async () => {
  const { ethers, networkHelpers } = await network.create();
  return measureStorageGas(ethers, networkHelpers);
};
export default bench;
