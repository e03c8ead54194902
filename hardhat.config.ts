import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig, emptyTask, overrideTask, task } from "hardhat/config";
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

// ComputeJobs (job market, fraud verdicts, penalties, the Verified tier) is 27,947 bytes of runtime
// code at 10,000 runs, over EIP-170's 24,576; at 200 runs it is 22,797, and its budgeted calls stay
// within budget (bench/results/gas.json). Both profiles build it so: what is tested is what deploys.
const lowRunsProfile: SolcUserConfig = {
  ...buildProfile,
  settings: { ...buildProfile.settings, optimizer: { enabled: true, runs: 200 } },
};
// StorageDeals is 24,721 bytes at 10,000 runs once its data set is packed so that adding a piece writes
// no fresh slot (issue 19), over the limit; at 2,000 runs it is 22,596 and its calls cost what they
// did or less (bench/results/gas.json, storage.*).
const storageProfile: SolcUserConfig = {
  ...buildProfile,
  settings: { ...buildProfile.settings, optimizer: { enabled: true, runs: 2_000 } },
};
const contractOverrides: Record<string, SolcUserConfig> = {
  "contracts/compute/ComputeJobs.sol": lowRunsProfile,
  "contracts/storage/StorageDeals.sol": storageProfile,
};

// `npm run coverage` (HEXMESH_COVERAGE=1): instrumented builds go to their own artifacts and cache under
// coverage/, so they never overwrite the real build that `npm test`'s plain pass (run at the same time),
// the demo and deploys use, and the next `npm run build` has nothing to recompile. No typechain there:
// the types come from the real build (same ABIs).
const coverageBuild = process.env.HEXMESH_COVERAGE === "1";

// Solidity fuzz/invariant effort, chosen with HEXMESH_FUZZ_PROFILE:
// - `quick` (the default): `npm test`'s plain pass and `npm run test:solidity`, on real bytecode;
// - `coverage` (the default under HEXMESH_COVERAGE=1): the coverage pass, which needs every line and
//   branch reached, not thousands of runs of an instrumented EVM (the full runs are the plain pass's);
// - `deep`: the documented long run (HEXMESH_FUZZ_PROFILE=deep npm run test:solidity).
const FUZZ_PROFILES = {
  quick: { fuzzRuns: 512, invariantRuns: 1_000, invariantDepth: 50 },
  coverage: { fuzzRuns: 64, invariantRuns: 64, invariantDepth: 50 },
  deep: { fuzzRuns: 20_000, invariantRuns: 10_000, invariantDepth: 100 },
} as const;
const fuzzProfileName = process.env.HEXMESH_FUZZ_PROFILE || (coverageBuild ? "coverage" : "quick");
if (!Object.hasOwn(FUZZ_PROFILES, fuzzProfileName)) {
  throw new Error(
    `HEXMESH_FUZZ_PROFILE=${fuzzProfileName}: expected one of ${Object.keys(FUZZ_PROFILES).join(", ")}`,
  );
}
const fuzzProfile = FUZZ_PROFILES[fuzzProfileName as keyof typeof FUZZ_PROFILES];

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

/**
 * A wallet/operator command under `hardhat hexmesh <name>` with the options every one of them takes:
 * where the suite is (the current chain's Ignition deployment, or explicit addresses), which configured
 * account signs, and --dry-run.
 */
function hexmeshTask(name: string, description: string) {
  return task(["hexmesh", name], description)
    .addOption({
      name: "deploymentId",
      description: "Ignition deployment id under deploy/deployments (default: chain-<chainId>)",
      defaultValue: "",
    })
    .addOption({
      name: "token",
      description: "MeshToken address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "registry",
      description: "DeviceRegistry address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "vault",
      description: "StakingVault address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "distributor",
      description: "Coverage RewardsDistributor address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "controller",
      description: "EmissionsController address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "credits",
      description: "UsageCredits address (overrides the deployment)",
      defaultValue: "",
    })
    .addOption({
      name: "account",
      description: "Configured account that signs (default: the first)",
      defaultValue: "",
    })
    .addFlag({
      name: "dryRun",
      description: "Print the transaction (decoded, with estimated gas) without sending it",
    });
}

const hexmeshTasks = [
  // Every `ignition deploy` checks the chain against its record afterwards (tasks/ignition-deploy.ts).
  overrideTask(["ignition", "deploy"])
    .setAction(() => import("./tasks/ignition-deploy.js"))
    .build(),
  emptyTask("hexmesh", "Hexmesh wallet and operator commands").build(),
  task(
    ["hexmesh", "check-deployment"],
    "Check that every address of the deployment record holds its recorded code",
  )
    .addOption({
      name: "deploymentId",
      description: "Ignition deployment id under deploy/deployments (default: chain-<chainId>)",
      defaultValue: "",
    })
    .setAction(() => import("./tasks/check-deployment.js"))
    .build(),
  hexmeshTask("status", "Show an account's MESH, stake, unstake requests, rewards and devices, or a device")
    .addOption({ name: "address", description: "Account to show (default: the signer)", defaultValue: "" })
    .addOption({ name: "device", description: "Device id to show instead of an account", defaultValue: "" })
    .setAction(() => import("./tasks/status.js"))
    .build(),
  hexmeshTask("stake", "Stake MESH (EIP-2612 permit and stake in one transaction)")
    .addOption({ name: "amount", description: "MESH to stake, e.g. 100 or 2.5", defaultValue: "" })
    .setAction(() => import("./tasks/stake.js"))
    .build(),
  hexmeshTask("unstake-request", "Request an unstake; withdrawable after the cooldown")
    .addOption({ name: "amount", description: "MESH to unstake", defaultValue: "" })
    .setAction(() => import("./tasks/unstake-request.js"))
    .build(),
  hexmeshTask("unstake-cancel", "Cancel a pending unstake request (stakes it again)")
    .addOption({
      name: "request",
      description: "Request id (default: the only pending one)",
      defaultValue: "",
    })
    .setAction(() => import("./tasks/unstake-cancel.js"))
    .build(),
  hexmeshTask("withdraw", "Withdraw a matured unstake request")
    .addOption({
      name: "request",
      description: "Request id (default: the only pending one)",
      defaultValue: "",
    })
    .setAction(() => import("./tasks/withdraw.js"))
    .build(),
  hexmeshTask("claim-staking", "Claim staking rewards")
    .setAction(() => import("./tasks/claim-staking.js"))
    .build(),
  hexmeshTask("claim-coverage", "Claim coverage rewards with a proof from an oracle URL or a JSON file")
    .addOption({
      name: "owner",
      description: "Owner to claim for (default: the signer); funds go to the owner",
      defaultValue: "",
    })
    .addOption({
      name: "oracle",
      description: "Oracle base URL: the proof comes from its API (GET <url>/v1/owners/<owner>)",
      defaultValue: "",
    })
    .addOption({
      name: "proofFile",
      description:
        "JSON file instead of --oracle: a saved GET /v1/owners/<owner> answer, or {cumulative, proof}",
      defaultValue: "",
    })
    .setAction(() => import("./tasks/claim-coverage.js"))
    .build(),
  hexmeshTask("onboard", "Onboard a device from a maker attestation and a device signature (JSON file)")
    .addOption({ name: "file", description: "JSON {req, makerSignature, deviceSignature}", defaultValue: "" })
    .setAction(() => import("./tasks/onboard.js"))
    .build(),
  hexmeshTask(
    "assert-location",
    "Assert a device's location (H3 cell, or lat/lng at the registry's resolution)",
  )
    .addOption({ name: "device", description: "Device id", defaultValue: "" })
    .addOption({ name: "cell", description: "H3 cell as hex", defaultValue: "" })
    .addOption({
      name: "lat",
      description: "Latitude in degrees, e.g. 37.75 or 33.87S (with --lng)",
      defaultValue: "",
    })
    .addOption({
      name: "lng",
      description: "Longitude in degrees, e.g. 2.35 or 122.47W (with --lat)",
      defaultValue: "",
    })
    .addOption({ name: "gain", description: "Antenna gain in dBi (1.0 to 15.0)", defaultValue: "1.2" })
    .addOption({ name: "elevation", description: "Antenna elevation in metres", defaultValue: "0" })
    .setAction(() => import("./tasks/assert-location.js"))
    .build(),
  hexmeshTask("credits-buy", "Buy usage credits by burning MESH (permit and purchase in one transaction)")
    .addOption({ name: "amount", description: "MESH to burn, e.g. 20 or 2.5", defaultValue: "" })
    .addOption({
      name: "beneficiary",
      description: "Account credited (default: the signer); a business may fund its app's account",
      defaultValue: "",
    })
    .addOption({
      name: "slippage",
      description: "Percent below the quoted credits still accepted (the minCredits bound)",
      defaultValue: "1",
    })
    .setAction(() => import("./tasks/credits-buy.js"))
    .build(),
  hexmeshTask("credits-approve", "Authorize a spender (a subnetwork market) to spend the signer's credits")
    .addOption({ name: "spender", description: "A registered spender contract", defaultValue: "" })
    .addOption({
      name: "allowance",
      description: 'Credits it may lock or consume (micro-USD), or "unlimited"',
      defaultValue: "",
    })
    .addOption({
      name: "signOut",
      description:
        "Sign an EIP-712 SpenderApproval into this JSON file instead of sending (anyone submits it)",
      defaultValue: "",
    })
    .addOption({
      name: "submitFile",
      description: "Submit a signed SpenderApproval JSON file (from --sign-out) instead",
      defaultValue: "",
    })
    .addOption({
      name: "validFor",
      description: "Seconds a signed approval stays valid",
      defaultValue: "86400",
    })
    .setAction(() => import("./tasks/credits-approve.js"))
    .build(),
  hexmeshTask(
    "credits-status",
    "Show an account's credits, spender allowances and locks, usage, and the price",
  )
    .addOption({ name: "address", description: "Account to show (default: the signer)", defaultValue: "" })
    .addOption({
      name: "fromBlock",
      description: "First block to read usage events from (default: 0)",
      defaultValue: "0",
    })
    .setAction(() => import("./tasks/credits-status.js"))
    .build(),
  hexmeshTask(
    "credits-burn",
    "Burn the MESH paid for credits that the credits ledger still holds (anyone may)",
  )
    .setAction(() => import("./tasks/credits-burn.js"))
    .build(),
  hexmeshTask(
    "burn-fees",
    "Burn the onboarding and assert fees the device registry has collected (anyone may)",
  )
    .setAction(() => import("./tasks/burn-fees.js"))
    .build(),
  hexmeshTask(
    "catch-up",
    "Distribute every ended epoch (anyone may): distribute() calls of at most 32 epochs, with progress",
  )
    .addOption({
      name: "maxCalls",
      description: "Stop after this many distribute transactions (default: until caught up)",
      defaultValue: "",
    })
    .setAction(() => import("./tasks/catch-up.js"))
    .build(),
];

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  tasks: hexmeshTasks,
  solidity: {
    profiles: {
      default: {
        compilers: [buildProfile],
        // The system handler drives the whole suite; at 10,000 optimizer runs its creation code passes
        // EIP-3860's 49,152-byte initcode limit and the invariant runner cannot deploy it (at 200 it is
        // 47,817 bytes: a further action may need a second handler). The demand-side test deploys token,
        // price, credits and controller from one contract and needs the same. Test code only:
        // the contracts under contracts/ keep the build profile (but ComputeJobs, above).
        overrides: {
          ...contractOverrides,
          ...Object.fromEntries(
            [
              "test/solidity/System.t.sol",
              "test/solidity/handlers/SystemHandler.sol",
              "test/solidity/Demand.t.sol",
              "test/solidity/handlers/DemandHandler.sol",
              "test/solidity/Compute.t.sol",
              "test/solidity/handlers/ComputeHandler.sol",
            ].map((file) => [file, lowRunsProfile]),
          ),
        },
      },
      production: { compilers: [buildProfile], overrides: contractOverrides },
    },
  },
  paths: {
    ignition: "deploy",
    ...(coverageBuild ? { artifacts: "coverage/artifacts", cache: "coverage/cache" } : {}),
  },
  typechain: {
    outDir: "typechain-types",
    dontOverrideCompile: coverageBuild,
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
      // Coverage instrumentation pushes DeviceRegistry past the 24,576-byte limit; real builds stay under it
      // (a test checks), so only `npm run coverage` lifts the limit.
      allowUnlimitedContractSize: process.env.HEXMESH_COVERAGE === "1",
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
