/**
 * The demo's paying customer: a business burns MESH for usage credits for its LoRaWAN router's account,
 * the router authorizes the coverage data-transfer settlement (a signed approval the business submits),
 * and every epoch signs a receipt per packet its devices sent through the demo's hotspots, which the
 * hotspots hand to the oracles. Deterministic from the seed. No top-level side effects.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";

import {
  creditsDomain,
  dataTransferDomain,
  encodePacketReceipt,
  SPENDER_APPROVAL_TYPES,
  UNLIMITED_ALLOWANCE,
  type PacketReceiptJson,
} from "@hexmesh/protocol";
import { ReceiptSigner } from "@hexmesh/protocol/node";

import type { ChainDevice } from "./fleet.js";
import type { Suite } from "./suite.js";

export interface Customer {
  readonly business: HardhatEthersSigner;
  readonly router: ReceiptSigner;
}

/** The business buys credits for its router with `mesh` and the router authorizes the settlement (unlimited). */
export async function startCustomer(
  suite: Suite,
  business: HardhatEthersSigner,
  mesh: bigint,
): Promise<Customer> {
  const routerWallet = new Wallet(keccak256(toUtf8Bytes("hexmesh demo router")));
  const settlement = await suite.dataTransfer.getAddress();
  const router = new ReceiptSigner(
    Uint8Array.from(Buffer.from(routerWallet.privateKey.slice(2), "hex")),
    dataTransferDomain(suite.chainId, settlement),
    0n,
  );
  await buyCredits(suite, business, router, mesh);
  const deadline = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp) + 3_600n;
  const value = {
    account: routerWallet.address,
    spender: settlement,
    allowance: UNLIMITED_ALLOWANCE,
    nonce: await suite.credits.nonces(routerWallet.address),
    deadline,
  };
  const domain = creditsDomain(suite.chainId, await suite.credits.getAddress());
  const signature = await routerWallet.signTypedData({ ...domain }, SPENDER_APPROVAL_TYPES, value);
  await (
    await suite.credits
      .connect(business)
      .approveSpenderWithSig(value.account, settlement, value.allowance, deadline, signature)
  ).wait();
  return { business, router };
}

/** Burns `mesh` of the business's MESH for credits on the router's account; returns the credits bought. */
export async function buyCredits(
  suite: Suite,
  business: HardhatEthersSigner,
  router: ReceiptSigner,
  mesh: bigint,
): Promise<bigint> {
  await (await suite.token.connect(business).approve(await suite.credits.getAddress(), mesh)).wait();
  const before = await suite.credits.balanceOf(router.router);
  await (await suite.credits.connect(business).burnForCredits(mesh, 0n, router.router)).wait();
  return (await suite.credits.balanceOf(router.router)) - before;
}

/**
 * `packets` receipts for epoch traffic through some of the fleet's hotspots: packet i goes through
 * hotspot (i × 7 + epoch) mod 12 (a dozen hotspots near the customer's sensors), 8 to 120 bytes.
 */
export function epochTraffic(
  customer: Customer,
  fleet: readonly ChainDevice[],
  window: { readonly epochStart: number; readonly epochEnd: number },
  epoch: bigint,
  packets: number,
): { readonly receipts: PacketReceiptJson[]; readonly carried: Map<bigint, number> } {
  const carried = new Map<bigint, number>();
  const receipts: PacketReceiptJson[] = [];
  const span = window.epochEnd - window.epochStart;
  for (let i = 0; i < packets; i++) {
    const device = fleet[(i * 7 + Number(epoch)) % Math.min(12, fleet.length)]!;
    const size = 8 + ((i * 37 + Number(epoch) * 11) % 113);
    const payload = keccak256(toUtf8Bytes(`demo packet ${epoch} ${i}`)).slice(2);
    const bytes = Uint8Array.from(Buffer.from(payload.repeat(4).slice(0, 2 * size), "hex"));
    const time = BigInt(window.epochStart + Math.floor(((i + 0.5) * span) / packets));
    receipts.push(
      encodePacketReceipt(customer.router.sign({ hotspot: device.record.id, payload: bytes, time })),
    );
    carried.set(device.record.id, (carried.get(device.record.id) ?? 0) + 1);
  }
  return { receipts, carried };
}
