import { expect } from "chai";
import hre from "hardhat";

/** True when the run instruments contracts for coverage, which inflates gas. */
export const coverageRun = (hre.globalOptions as { coverage?: boolean }).coverage === true;

/**
 * Asserts that a transaction stayed within its gas budget (receipt gasUsed).
 * Gas is deterministic, so budgets are hard limits; coverage runs are exempt
 * because instrumentation adds gas that production bytecode does not spend.
 */
export function expectGasBelow(
  receipt: { gasUsed: bigint } | null | undefined,
  budget: bigint | number,
  what: string,
): bigint {
  if (!receipt) throw new Error(`${what}: no receipt`);
  if (!coverageRun) {
    expect(receipt.gasUsed, `${what} gas`).to.be.lessThan(BigInt(budget));
  }
  return receipt.gasUsed;
}
