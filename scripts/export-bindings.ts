/**
 * Writes the off-chain bindings of the deployed contracts into packages/contracts (the workspace
 * package `@hexmesh/contracts` that the oracle, the simulator and the agents import): each
 * contract's ABI, and typed ethers v6 bindings generated from those ABIs with TypeChain (the same
 * generator `hardhat build` runs for typechain-types/, here without bytecode and without Hardhat's
 * type extensions, so the package depends on ethers alone). Run by `npm run build` after
 * `hardhat build`; the output is generated, never committed.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { runTypeChain } from "typechain";
import { outputTransformers } from "typechain/dist/codegen/outputTransformers/index.js";

/** The contracts a deployment consists of (artifacts/contracts/<file>/<name>.json). */
export const DEPLOYED_CONTRACTS = [
  "token/MeshToken.sol/MeshToken",
  "registry/DeviceRegistry.sol/DeviceRegistry",
  "staking/StakingVault.sol/StakingVault",
  "emissions/EmissionsController.sol/EmissionsController",
  "rewards/RewardsDistributor.sol/RewardsDistributor",
  "governance/HexmeshTimelock.sol/HexmeshTimelock",
] as const;

const root = process.cwd();
const pkg = path.join(root, "packages", "contracts");
const abiDir = path.join(pkg, "abi");
const outDir = path.join(pkg, "src", "generated");

await rm(abiDir, { recursive: true, force: true });
await rm(outDir, { recursive: true, force: true });
await mkdir(abiDir, { recursive: true });
const files: string[] = [];
for (const contract of DEPLOYED_CONTRACTS) {
  const artifact = JSON.parse(
    await readFile(path.join(root, "artifacts", "contracts", `${contract}.json`), "utf8"),
  ) as { contractName: string; abi: unknown[] };
  const file = path.join(abiDir, `${artifact.contractName}.json`);
  await writeFile(file, JSON.stringify(artifact.abi, null, 2) + "\n");
  files.push(file);
}

// TypeChain 8 formats its output with Prettier 2's synchronous API; Prettier 3 returns a promise.
// Drop that transformer, as @nomicfoundation/hardhat-typechain does; `npm run format` skips the output.
const prettierAt = outputTransformers.findIndex((t) => t.name === "prettierOutputTransformer");
if (prettierAt !== -1) outputTransformers.splice(prettierAt, 1);

const result = await runTypeChain({
  cwd: pkg,
  filesToProcess: files,
  allFiles: files,
  outDir,
  target: "ethers-v6",
  flags: {
    alwaysGenerateOverloads: false,
    discriminateTypes: false,
    tsNocheck: false,
    node16Modules: true,
    environment: undefined,
  },
});
console.log(`@hexmesh/contracts: ${files.length} ABIs, ${result.filesGenerated} binding files`);
