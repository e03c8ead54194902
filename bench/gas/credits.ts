import { network } from "hardhat";

import { measureCreditsGas } from "../../test/helpers/credits.js";
import type { GasBench } from "./types.js";

/** Usage credits gas; the scenario is in test/helpers/credits.ts (shared with the budget test). */
const bench: GasBench = async () => {
  const { ethers } = await network.create();
  return measureCreditsGas(ethers);
};
export default bench;
