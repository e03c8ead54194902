import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
import type { SolcUserConfig } from "hardhat/types/config";

const require = createRequire(import.meta.url);

// Compilers cannot be downloaded on our machines: use the solc-js build that
// npm installs (its version is pinned exactly in package.json).
const SOLC_VERSION: string = (require("solc/package.json") as { version: string }).version;
const SOLC_PATH = require.resolve("solc/soljson.js");

// Cancun is live on Ethereum Sepolia, Base Sepolia, Arbitrum Sepolia and OP Sepolia;
// pinning it keeps bytecode identical on every chain we target.
const EVM_VERSION = "cancun";

const buildProfile: SolcUserConfig = {
  version: SOLC_VERSION,
  path: SOLC_PATH,
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 10_000 },
    viaIR: false,
  },
};

// Solidity fuzz/invariant effort. `quick` runs in `npm test`; `deep` is the
// documented long run (HEXMESH_FUZZ_PROFILE=deep npm run test:solidity).
const FUZZ_PROFILES = {
  quick: { fuzzRuns: 512, invariantRuns: 1_000, invariantDepth: 50 },
  deep: { fuzzRuns: 20_000, invariantRuns: 10_000, invariantDepth: 100 },
} as const;
const fuzzProfile = FUZZ_PROFILES[process.env.HEXMESH_FUZZ_PROFILE === "deep" ? "deep" : "quick"];

/** An HTTP network whose URL and deployer key come from env or hardhat-keystore. */
function testnet(chainId: number, prefix: string) {
  return {
    type: "http" as const,
    chainType: chainId === 11155111 ? ("l1" as const) : ("op" as const),
    chainId,
    url: configVariable(`${prefix}_RPC_URL`),
    accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
  };
}

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: buildProfile,
      production: buildProfile,
    },
  },
  paths: {
    ignition: "deploy",
  },
  typechain: {
    outDir: "typechain-types",
  },
  test: {
    solidity: {
      fuzz: { runs: fuzzProfile.fuzzRuns, seed: "0x4845584d455348" },
      invariant: {
        runs: fuzzProfile.invariantRuns,
        depth: fuzzProfile.invariantDepth,
        failOnRevert: false,
      },
    },
    mocha: {
      timeout: 120_000,
    },
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainType: "l1",
      allowUnlimitedContractSize: false,
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545",
    },
    sepolia: testnet(11155111, "SEPOLIA"),
    baseSepolia: testnet(84532, "BASE_SEPOLIA"),
    arbitrumSepolia: { ...testnet(421614, "ARBITRUM_SEPOLIA"), chainType: "generic" },
    optimismSepolia: testnet(11155420, "OP_SEPOLIA"),
  },
  verify: {
    etherscan: {
      apiKey: configVariable("ETHERSCAN_API_KEY"),
    },
  },
});
