/**
 * Runs `hardhat hexmesh <name>` in process against one test deployment, capturing what it prints: the
 * task tests' one way to call a command and to expect its error.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import hre from "hardhat";

export function taskRunner(deploymentId: string) {
  async function run(name: string, args: Record<string, unknown> = {}, as?: HardhatEthersSigner) {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      const result = (await hre.tasks.getTask(["hexmesh", name]).run({
        deploymentId,
        ...(as ? { account: as.address } : {}),
        ...args,
      })) as Record<string, any>;
      return { result, out: lines.join("\n") };
    } finally {
      console.log = log;
    }
  }
  async function fails(
    name: string,
    args: Record<string, unknown>,
    as: HardhatEthersSigner | undefined,
    message: RegExp,
  ) {
    let caught: unknown;
    try {
      await run(name, args, as);
    } catch (e) {
      caught = e;
    }
    expect(caught, `${name} should fail with ${message}`).to.be.instanceOf(Error);
    expect((caught as Error).message).to.match(message);
    return caught as Error;
  }
  return { run, fails };
}
