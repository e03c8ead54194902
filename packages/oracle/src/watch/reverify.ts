/**
 * Re-verification from scratch, for the watcher's --reverify: the epoch's inputs (reports with
 * their receive times, entropy) pulled from an oracle's /v1/inputs into a throwaway in-memory
 * store, the chain indexed at the epoch's snapshot from the watcher's own node, and the epoch
 * computed by the oracle's one epoch path (EpochService.close). Only the previous root's owners
 * come from outside: from the published set of the live root, checked against it. With the
 * UsageCredits address, the usage rewards are read from its logs and reconciled with them too.
 */
import { Wallet } from "ethers";

import { decodeEpochEncoding, OwnerMerkleTree, type EpochRoot, type Hex } from "@hexmesh/protocol";

import { OracleClient } from "../api/client.js";
import { connectChain, type SuiteAddresses } from "../service/chain.js";
import { EpochService } from "../service/epochs.js";
import { openStore } from "../store/index.js";

export interface ReverifyOptions {
  readonly rpcUrl: string;
  readonly addresses: SuiteAddresses;
  /** Block registry events are replayed from. */
  readonly fromBlock: number;
  /** The oracle whose stored inputs are pulled. */
  readonly inputsFrom: string;
}

/** The live root the posted one builds on (absent: the posted epoch is the first). */
export interface LiveRoot {
  readonly epoch: bigint;
  readonly root: Hex;
}

/** Recomputes `epoch` from its inputs; throws when it cannot (inputs or previous set unavailable). */
export async function reverifyEpoch(o: ReverifyOptions, epoch: bigint, live?: LiveRoot): Promise<EpochRoot> {
  const store = await openStore({ backend: "sqlite", path: ":memory:" });
  const chain = connectChain(o.rpcUrl, o.addresses);
  try {
    let firstEpoch = epoch;
    if (live !== undefined) {
      if (live.epoch + 1n !== epoch)
        throw new Error(
          `the live root is of epoch ${live.epoch}, not the one before ${epoch}: nothing to build on`,
        );
      const { bytes } = await new OracleClient(o.inputsFrom).encoding(live.epoch);
      const prev = decodeEpochEncoding(bytes);
      const tree = OwnerMerkleTree.build(prev.owners.map((w) => ({ owner: w.owner, amount: w.cumulative })));
      if (tree.root !== live.root)
        throw new Error(
          `the published set of epoch ${live.epoch} rebuilds to ${tree.root}, not the live root ${live.root}`,
        );
      await store.putEpochResult(
        {
          epoch: live.epoch,
          root: live.root,
          totalCumulative: prev.totalCumulative,
          dataHash: `0x${"00".repeat(32)}`,
          snapshotBlock: 0,
          summary: {
            reports: 0,
            valid: 0,
            beacons: 0,
            witnesses: 0,
            rejected: {},
            devices: prev.devices.length,
            owners: prev.owners.length,
            pool: prev.pool.toString(),
            distributed: prev.distributed.toString(),
            dust: prev.dust.toString(),
          },
          owners: prev.owners,
          computedAt: Date.now(),
        },
        [],
      );
      firstEpoch = live.epoch;
    }
    // The service needs a key to exist; the watcher's never signs anything.
    const epochs = new EpochService(store, chain.contracts, Wallet.createRandom() as unknown as Wallet, {
      fromBlock: o.fromBlock,
      firstEpoch,
    });
    await epochs.pull(epoch, o.inputsFrom);
    const r = await epochs.close(epoch);
    // The usage rewards against the chain's UsageRecorded logs, as an oracle checks before signing.
    await epochs.reconcileUsage(epoch);
    return { epoch, root: r.root, totalCumulative: r.totalCumulative, dataHash: r.dataHash };
  } finally {
    chain.close();
    await store.close();
  }
}
