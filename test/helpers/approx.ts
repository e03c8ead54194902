import { expect } from "chai";

/**
 * |actual - expected| <= tolerance. Chai's own closeTo is replaced by Hardhat's bigint matchers once
 * any test connects to a network, and those refuse non-integer numbers.
 */
export function near(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected) <= tolerance, `${actual} ≈ ${expected} ± ${tolerance}`).to.equal(true);
}
