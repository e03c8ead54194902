import hre from "hardhat";

/** True when the run instruments contracts for coverage, which inflates gas. */
export const coverageRun = (hre.globalOptions as { coverage?: boolean }).coverage === true;
