/** The service's view of the chain: typed contract bindings over one JSON-RPC endpoint. */
import { JsonRpcProvider, Wallet, type Signer } from "ethers";

import {
  DeviceRegistry__factory,
  EmissionsController__factory,
  RewardsDistributor__factory,
  StakingVault__factory,
  UsageCredits__factory,
  type RewardsDistributor,
} from "@hexmesh/contracts";
import { SUBNETWORK_COVERAGE, type Hex } from "@hexmesh/protocol";

import type { ChainContracts } from "../chain/indexer.js";
import { withRetry } from "../util/retry.js";

export interface SuiteAddresses {
  readonly registry: string;
  readonly vault: string;
  readonly controller: string;
  readonly distributor: string;
  /** The coverage DataTransferSettlement; unset: the oracle takes no packet receipts. */
  readonly dataTransfer?: string;
  /** UsageCredits: its UsageRecorded logs are the epoch's paid usage (absent: no usage is read). */
  readonly credits?: string;
  /** The subnetwork's id (bytes32) whose usage is read; default the coverage subnetwork's. */
  readonly subnetwork?: string;
}

/** A RewardsDistributor's roots and claims, as the owner route reads them (one per kind of work). */
export interface DistributorReader {
  /** The live root's epoch and root, or null before the first root is live. */
  liveRoot(): Promise<{ epoch: bigint; root: Hex } | null>;
  /** The pending root's epoch, root and readyAt (Unix s), or null when none is pending. */
  pendingRoot(): Promise<{ epoch: bigint; root: Hex; readyAt: bigint } | null>;
  claimed(owner: string): Promise<bigint>;
}

/** What the API reads from the chain (an interface so tests can run the API without a node). */
export interface ChainReader extends DistributorReader {
  latestBlockHash(): Promise<Hex>;
}

/** The reader of one distributor binding (the coverage one, or a kind's from config `works`). */
export function distributorReader(distributor: RewardsDistributor): DistributorReader {
  return {
    async liveRoot() {
      const [epoch, root] = await withRetry(() => distributor.liveRoot());
      return BigInt(root) === 0n ? null : { epoch, root: root.toLowerCase() as Hex };
    },
    async pendingRoot() {
      const [epoch, root, , readyAt] = await withRetry(() => distributor.pendingRoot());
      return readyAt === 0n ? null : { epoch, root: root.toLowerCase() as Hex, readyAt };
    },
    claimed: (owner) => withRetry(() => distributor.claimed(owner)),
  };
}

export interface Chain extends ChainReader {
  readonly provider: JsonRpcProvider;
  readonly contracts: ChainContracts;
  /** Contracts bound to `signer` (the aggregator's posting account). */
  withSigner(signer: Signer): ChainContracts;
  close(): void;
}

export function connectChain(rpcUrl: string, addresses: SuiteAddresses): Chain {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: false, polling: true });
  const bind = (runner: Signer | JsonRpcProvider): ChainContracts => ({
    registry: DeviceRegistry__factory.connect(addresses.registry, runner),
    vault: StakingVault__factory.connect(addresses.vault, runner),
    controller: EmissionsController__factory.connect(addresses.controller, runner),
    distributor: RewardsDistributor__factory.connect(addresses.distributor, runner),
    ...(addresses.credits !== undefined
      ? {
          usage: {
            credits: UsageCredits__factory.connect(addresses.credits, runner),
            subnetwork: (addresses.subnetwork ?? SUBNETWORK_COVERAGE).toLowerCase() as Hex,
          },
        }
      : {}),
  });
  const contracts = bind(provider);
  return {
    ...distributorReader(contracts.distributor),
    provider,
    contracts,
    withSigner: (signer) => bind(signer.connect(provider)),
    async latestBlockHash() {
      const b = await withRetry(() => provider.getBlock("latest"));
      if (b?.hash === null || b?.hash === undefined) throw new Error("no latest block");
      return b.hash.toLowerCase() as Hex;
    },
    close: () => provider.destroy(),
  };
}

/** A posting account from a private key. */
export function walletFrom(privateKey: string): Wallet {
  return new Wallet(privateKey);
}
