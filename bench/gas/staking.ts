import { network } from "hardhat";

import { measureStakingGas } from "../../test/helpers/staking.js";
import type { GasBench } from "./types.js";

/** Staking vault gas; the scenario (a vault in use, stream running) is in test/helpers/staking.ts. */
const bench: GasBench = async () => {
  const { ethers, networkHelpers } = await network.create();
  return measureStakingGas(ethers, networkHelpers.time);
};
export default bench;
