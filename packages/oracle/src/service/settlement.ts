/**
 * Coverage data transfer, the oracle's side: packet receipts in (POST /v1/receipts), one settlement
 * per epoch out (DataTransferSettlement.settle), in this order on the epoch path:
 *
 *   receipts  verify each receipt (wire form, router signature, epoch, router account, hotspot) and
 *             store it within the router's spendable credits (ReceiptDesk.submit)
 *   build     after the epoch's end + grace: close its receipts, resolve each hotspot's owner at the
 *             epoch's snapshot block, sum credits per (router, owner) (deterministic from the stored
 *             receipts and the chain) and store the settlement
 *   sign      sign it under the coverage distributor's current oracle set
 *   collect   fetch peers' signatures of the same entries (GET /v1/epochs/:e/settlement)
 *   post      settle on chain with k signatures, once; then the epoch's rewards may be built
 *
 * Refusal codes (the table in docs/oracle-service.md): malformed, bad_signature, out_of_epoch,
 * unknown_router, unknown_hotspot, duplicate, over_balance.
 */
import { recoverAddress, Signature } from "ethers";

import {
  explainContractError,
  type DataTransferSettlement,
  type DeviceRegistry,
  type EmissionsController,
  type RewardsDistributor,
  type UsageCredits,
} from "@hexmesh/contracts";
import {
  dataTransferDomain,
  packetReceiptDigest,
  parsePacketReceipt,
  receiptCredits,
  receiptEpoch,
  settlementDigest,
  settlementEntries,
  settlementEntriesHash,
  toHex,
  type ContractDomain,
  type Hex,
  type PacketReceipt,
} from "@hexmesh/protocol";

import { OracleApiError, OracleClient } from "../api/client.js";
import { epochWindow, lastBlockBefore } from "../chain/indexer.js";
import { OracleKey, packSignatures, type OracleSignature } from "../post/sign.js";
import type {
  OracleStore,
  ReceiptInput,
  StoredSettlement,
  StoredSettlementSignature,
} from "../store/types.js";
import { withRetry, type RetryOptions } from "../util/retry.js";
import { SignatureChecker } from "../verify/signatures.js";
import { EpochNotOverError } from "./close.js";
import type { ReceiptRefusal } from "./receipt-reasons.js";

export { RECEIPT_REFUSALS, type ReceiptRefusal } from "./receipt-reasons.js";

export type ReceiptResult =
  | { readonly status: "accepted"; readonly epoch: string; readonly credits: string }
  | {
      readonly status: "refused";
      readonly reason: ReceiptRefusal;
      readonly detail: string;
      readonly field?: string;
    };

export interface DataTransferContracts {
  readonly settlement: DataTransferSettlement;
  readonly credits: UsageCredits;
  readonly registry: DeviceRegistry;
  readonly controller: EmissionsController;
  readonly distributor: RewardsDistributor;
}

export interface SettlementOptions {
  readonly retry?: RetryOptions;
  /** The clock (Unix ms) for "future" receipts and for when an epoch may be settled. */
  readonly now: () => number | Promise<number>;
  /** Wait after an epoch's end before its receipts close (late receipts in flight). Default 60,000 ms. */
  readonly closeGraceMs?: number;
  /** How far a receipt's time may be ahead of the clock. Default 60,000 ms. */
  readonly futureSkewMs?: number;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const refused = (reason: ReceiptRefusal, detail: string, field?: string): ReceiptResult =>
  field === undefined ? { status: "refused", reason, detail } : { status: "refused", reason, detail, field };

/** Packet receipts in, settlements out: one per oracle service with a DataTransferSettlement. */
export class DataTransfer {
  private clock: Promise<{ genesis: bigint; length: bigint }> | undefined;
  private domainOf: Promise<ContractDomain> | undefined;
  private readonly checker = new SignatureChecker();

  constructor(
    private readonly store: OracleStore,
    private readonly contracts: DataTransferContracts,
    private readonly options: SettlementOptions,
    /** This oracle's key (absent on an ingest-only process: it cannot sign). */
    private readonly key?: OracleKey,
  ) {}

  /** This oracle's signing address, if it has a key. */
  get signer(): Hex | undefined {
    return this.key?.address;
  }

  private get retry() {
    return this.options.retry;
  }

  private epochClock() {
    this.clock ??= withRetry(() => this.contracts.settlement.epochClock(), this.retry).then(
      ([genesis, length]) => ({
        genesis,
        length,
      }),
    );
    return this.clock;
  }

  /** The data-transfer EIP-712 domain: this chain and the settlement contract. */
  domain(): Promise<ContractDomain> {
    this.domainOf ??= (async () => {
      const net = await withRetry(() => this.contracts.settlement.runner!.provider!.getNetwork(), this.retry);
      return dataTransferDomain(net.chainId, (await this.contracts.settlement.getAddress()).toLowerCase());
    })();
    return this.domainOf;
  }

  /** Verifies and stores a batch of receipts (their wire forms), answering each in order. */
  async submit(items: readonly unknown[]): Promise<ReceiptResult[]> {
    const results: (ReceiptResult | null)[] = items.map(() => null);
    const domain = await this.domain();
    const { genesis, length } = await this.epochClock();
    const now = BigInt(Math.floor(await this.options.now()));
    const futureSkew = BigInt(this.options.futureSkewMs ?? 60_000);
    const { settlement, credits, registry } = this.contracts;
    const settlementAddr = domain.verifyingContract;
    const unsettledFrom = await withRetry(() => settlement.nextEpoch(), this.retry);
    const closedUpTo = await this.store.latestReceiptClose();
    const parsed: { index: number; receipt: PacketReceipt; epoch: bigint }[] = [];
    items.forEach((item, index) => {
      const p = parsePacketReceipt(item);
      if (!p.ok) {
        results[index] = refused("malformed", `${p.error.code}: ${p.error.detail}`, p.error.field);
        return;
      }
      const r = p.receipt;
      if (
        !this.checker.verify(
          { type: "secp256k1", address: r.router },
          packetReceiptDigest(domain, r),
          r.signature,
        )
      ) {
        results[index] = refused(
          "bad_signature",
          "the signature is not the router's over this receipt (chain, settlement contract)",
        );
        return;
      }
      const epoch = receiptEpoch(r.time, genesis, length);
      if (epoch === null) {
        results[index] = refused(
          "out_of_epoch",
          "the receipt's time is before the network's genesis",
          "time",
        );
        return;
      }
      if (r.time > now + futureSkew) {
        results[index] = refused("out_of_epoch", "the receipt's time is in the future", "time");
        return;
      }
      if (epoch < unsettledFrom || (closedUpTo !== null && epoch <= closedUpTo)) {
        results[index] = refused(
          "out_of_epoch",
          `epoch ${epoch} is closed for receipts (settled or settling)`,
          "time",
        );
        return;
      }
      parsed.push({ index, receipt: r, epoch });
    });

    // The chain, once per router, hotspot and epoch of the batch.
    const routers = [...new Set(parsed.map((p) => p.receipt.router))];
    const spendable = new Map<Hex, bigint>();
    const registered =
      (await withRetry(() => credits.spenderSubnetwork(settlementAddr), this.retry)) !==
      `0x${"00".repeat(32)}`;
    await Promise.all(
      routers.map(async (router) => {
        const [balance, allowance] = await Promise.all([
          withRetry(() => credits.balanceOf(router), this.retry),
          withRetry(() => credits.allowance(router, settlementAddr), this.retry),
        ]);
        if (registered && balance > 0n && allowance > 0n)
          spendable.set(router, balance < allowance ? balance : allowance);
      }),
    );
    const hotspots = [...new Set(parsed.map((p) => p.receipt.hotspot))];
    const known = new Set<bigint>();
    await Promise.all(
      hotspots.map(async (id) => {
        try {
          await withRetry(() => registry.ownerOf(id), this.retry);
          known.add(id);
        } catch (e) {
          if ((e as { code?: string }).code !== "CALL_EXCEPTION") throw e;
        }
      }),
    );
    const prices = new Map<bigint, bigint>();
    for (const e of new Set(parsed.map((p) => p.epoch)))
      prices.set(e, await withRetry(() => settlement.creditsPerPacketAt(e), this.retry));

    const inputs: { index: number; input: ReceiptInput }[] = [];
    const receivedAt = Date.now();
    for (const { index, receipt: r, epoch } of parsed) {
      if (!spendable.has(r.router)) {
        results[index] = refused(
          "unknown_router",
          registered
            ? `router ${r.router} has no credits or has not authorized the data-transfer settlement ${settlementAddr}`
            : `the data-transfer settlement ${settlementAddr} is not a registered credits spender`,
          "router",
        );
        continue;
      }
      if (!known.has(r.hotspot)) {
        results[index] = refused("unknown_hotspot", `no device ${r.hotspot} in the registry`, "hotspot");
        continue;
      }
      const { signature: _s, ...fields } = r;
      inputs.push({
        index,
        input: {
          router: r.router,
          routerNonce: r.routerNonce,
          epoch,
          hotspot: r.hotspot,
          credits: receiptCredits(r.bytes, prices.get(epoch)!),
          raw: JSON.stringify({
            ...fields,
            hotspot: r.hotspot.toString(),
            time: r.time.toString(),
            routerNonce: r.routerNonce.toString(),
            signature: r.signature,
          }),
          receivedAt,
        },
      });
    }
    const outcomes = await this.store.insertReceipts(
      inputs.map((i) => i.input),
      { unsettledFrom, spendable },
    );
    inputs.forEach(({ index, input }, i) => {
      const o = outcomes[i]!;
      results[index] =
        o === "stored"
          ? { status: "accepted", epoch: input.epoch.toString(), credits: input.credits.toString() }
          : o === "duplicate"
            ? refused(
                "duplicate",
                `router nonce ${input.routerNonce} of ${input.router} was used before`,
                "routerNonce",
              )
            : o === "closed"
              ? refused(
                  "out_of_epoch",
                  `epoch ${input.epoch} is closed for receipts (settled or settling)`,
                  "time",
                )
              : refused(
                  "over_balance",
                  `router ${input.router}'s spendable credits (${spendable.get(input.router)}) cannot cover this receipt with its unsettled ones`,
                );
    });
    return results as ReceiptResult[];
  }

  /**
   * Builds and stores the epoch's settlement (returns the stored one if built before). Refuses
   * before the epoch's end + grace; closes the epoch's receipts first, so the set read cannot change.
   */
  async build(epoch: bigint): Promise<StoredSettlement> {
    const stored = await this.store.getSettlement(epoch);
    if (stored !== null) return stored;
    const window = await epochWindow(this.contracts.controller, epoch, this.retry);
    const grace = this.options.closeGraceMs ?? 60_000;
    const now = await this.options.now();
    const earliest = Number(window.end) * 1000 + grace;
    if (now < earliest)
      throw new EpochNotOverError(
        `epoch ${epoch}'s receipts cannot be settled before ${new Date(earliest).toISOString()} (its end + ${grace} ms of grace); the oracle's clock reads ${new Date(now).toISOString()}`,
      );
    await this.store.closeReceipts(epoch, Math.floor(now));
    const receipts = await this.store.receiptsOfEpoch(epoch);
    // Owners at the epoch's snapshot block (the block the epoch's rewards are computed at).
    const snapshot = await lastBlockBefore(this.contracts.registry, window.end, this.retry);
    const owners = new Map<bigint, Hex | null>();
    for (const id of new Set(receipts.map((r) => r.hotspot))) {
      try {
        const owner = await withRetry(
          () => this.contracts.registry.ownerOf(id, { blockTag: snapshot }),
          this.retry,
        );
        owners.set(id, owner.toLowerCase() as Hex);
      } catch (e) {
        if ((e as { code?: string }).code !== "CALL_EXCEPTION") throw e;
        owners.set(id, null);
      }
    }
    const paid = receipts.filter((r) => owners.get(r.hotspot) !== null);
    const entries = settlementEntries(
      paid.map((r) => ({ router: r.router, provider: owners.get(r.hotspot)!, credits: r.credits })),
    );
    const creditsPerPacket = await withRetry(
      () => this.contracts.settlement.creditsPerPacketAt(epoch),
      this.retry,
    );
    const settlement: StoredSettlement = {
      epoch,
      entriesHash: settlementEntriesHash(entries),
      entries,
      receipts: receipts.length,
      unknownHotspot: receipts.length - paid.length,
      credits: entries.reduce((s, e) => s + e.credits, 0n),
      creditsPerPacket,
      snapshotBlock: snapshot,
      txHash: null,
      computedAt: Date.now(),
    };
    await this.store.putSettlement(settlement);
    return settlement;
  }

  private async request(epoch: bigint) {
    const s = await this.store.getSettlement(epoch);
    if (s === null) throw new Error(`epoch ${epoch} has no settlement here: build it first`);
    const [version, threshold, oracles] = await Promise.all([
      withRetry(() => this.contracts.distributor.oracleSetVersion(), this.retry),
      withRetry(() => this.contracts.distributor.threshold(), this.retry),
      withRetry(() => this.contracts.distributor.oracles(), this.retry),
    ]);
    const digest = toHex(
      settlementDigest(await this.domain(), { epoch, entriesHash: s.entriesHash, oracleSetVersion: version }),
    );
    return {
      settlement: s,
      version,
      threshold: Number(threshold),
      oracles: oracles.map((o) => o.toLowerCase()),
      digest,
    };
  }

  /** Signs this oracle's own settlement of `epoch` under the current oracle set and stores it. */
  async sign(epoch: bigint): Promise<StoredSettlementSignature> {
    const key = this.key;
    if (key === undefined) throw new Error("this oracle has no key to sign with");
    const req = await this.request(epoch);
    if (!req.oracles.includes(key.address))
      throw new Error(`this oracle key ${key.address} is not in the distributor's oracle set`);
    const sig = key.signDigest(req.digest);
    const stored: StoredSettlementSignature = {
      epoch,
      oracleSetVersion: req.version,
      signer: sig.signer,
      signature: sig.signature,
      entriesHash: req.settlement.entriesHash,
      receivedAt: Date.now(),
    };
    await this.store.putSettlementSignature(stored);
    return stored;
  }

  /** Signatures that recover to a current oracle over exactly this oracle's entries. */
  private verified(req: Awaited<ReturnType<DataTransfer["request"]>>, sigs: readonly OracleSignature[]) {
    return sigs.filter((s) => {
      try {
        const signer = recoverAddress(req.digest, Signature.from(s.signature)).toLowerCase();
        return signer === s.signer && req.oracles.includes(signer);
      } catch {
        return false;
      }
    });
  }

  /** Fetches peers' signatures of the epoch's settlement; returns how many verified ones are stored. */
  async collect(epoch: bigint, peers: readonly string[]): Promise<number> {
    const req = await this.request(epoch);
    for (const peer of peers) {
      try {
        const body = await new OracleClient(peer, { timeoutMs: 10_000 }).epochSettlement(epoch);
        if (body.signature === undefined || body.entriesHash !== req.settlement.entriesHash) {
          this.options.log?.("peer settlement differs or is unsigned", { peer, epoch: String(epoch) });
          continue;
        }
        for (const s of this.verified(req, [
          { signer: body.signature.signer as Hex, signature: body.signature.signature as Hex },
        ]))
          await this.store.putSettlementSignature({
            epoch,
            oracleSetVersion: req.version,
            signer: s.signer,
            signature: s.signature,
            entriesHash: req.settlement.entriesHash,
            receivedAt: Date.now(),
          });
      } catch (e) {
        if (e instanceof OracleApiError && !e.unreachable)
          this.options.log?.("peer has no settlement", { peer, status: e.status, error: e.apiMessage });
        else this.options.log?.("peer unreachable", { peer, error: String(e) });
      }
    }
    return (await this.usable(epoch, req)).length;
  }

  private async usable(epoch: bigint, req: Awaited<ReturnType<DataTransfer["request"]>>) {
    const sigs = (await this.store.settlementSignatures(epoch)).filter(
      (s) => s.oracleSetVersion === req.version && s.entriesHash === req.settlement.entriesHash,
    );
    return this.verified(req, sigs);
  }

  /**
   * Settles the epoch on chain through `poster` (at most once: an epoch already settled on chain is
   * skipped). An epoch without entries needs no transaction.
   */
  async post(
    epoch: bigint,
    poster: DataTransferSettlement,
  ): Promise<{ status: "settled"; txHash: string; gasUsed: bigint } | { status: "skipped"; detail: string }> {
    const req = await this.request(epoch);
    if (req.settlement.entries.length === 0) return { status: "skipped", detail: "no receipts to settle" };
    const next = await withRetry(() => poster.nextEpoch(), this.retry);
    if (next > epoch) return { status: "skipped", detail: `already settled (next epoch ${next})` };
    const signatures = packSignatures(await this.usable(epoch, req), req.threshold);
    const usages = req.settlement.entries.map((e) => ({
      account: e.router,
      provider: e.provider,
      credits: e.credits,
    }));
    // A revert (a router short of credits or allowance, an old oracle set) comes back decoded by name.
    const tx = await poster.settle(epoch, req.version, usages, signatures).catch((e: unknown) => {
      throw explainContractError(e);
    });
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1)
      throw new Error(`settle of epoch ${epoch} failed (${tx.hash})`);
    await this.store.setSettlementTx(epoch, tx.hash);
    return { status: "settled", txHash: tx.hash, gasUsed: receipt.gasUsed };
  }
}
