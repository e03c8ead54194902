/**
 * The router side of coverage data transfer, for Node: a router (the LoRaWAN network server that owns
 * the devices) signs one PacketReceipt per packet a hotspot carried for it, numbering them with its own
 * nonces, and hands them to the hotspots (or straight to an oracle's `POST /v1/receipts`).
 *
 *   const router = new ReceiptSigner(routerKey, dataTransferDomain(chainId, settlement), firstNonce);
 *   const receipt = router.sign({ hotspot, payload, time });   // payload: the packet's bytes
 */
import { keccak256 } from "../crypto/keccak.js";
import type { ContractDomain } from "../eip712/typed-data.js";
import { toHex } from "../hex.js";
import type { DeviceSigner } from "../keys.js";
import { signPacketReceipt } from "../receipts/receipt.js";
import type { PacketReceipt } from "../receipts/types.js";
import { secp256k1Signer } from "./signers.js";

/** One packet as the router received it through a hotspot. */
export interface CarriedPacket {
  /** The carrying hotspot's registry device id. */
  readonly hotspot: bigint;
  /** The packet's bytes (its hash and length go into the receipt). */
  readonly payload: Uint8Array;
  /** When the router received it, Unix ms. */
  readonly time: bigint;
}

/** Signs receipts with consecutive router nonces from `nextNonce` on. */
export class ReceiptSigner {
  private readonly signer: DeviceSigner;
  private readonly domain: ContractDomain;
  private nonce: bigint;

  constructor(privateKey: Uint8Array, domain: ContractDomain, nextNonce: bigint) {
    this.signer = secp256k1Signer(privateKey);
    this.domain = domain;
    this.nonce = nextNonce;
  }

  /** The router's address: the account whose credits pay for its receipts. */
  get router() {
    return this.signer.keyId;
  }

  /** The nonce the next receipt takes; a router persists it so that no nonce is used twice. */
  get nextNonce(): bigint {
    return this.nonce;
  }

  sign(packet: CarriedPacket): PacketReceipt {
    const receipt = signPacketReceipt(this.signer, this.domain, {
      hotspot: packet.hotspot,
      payloadHash: toHex(keccak256(packet.payload)),
      bytes: packet.payload.length,
      time: packet.time,
      routerNonce: this.nonce,
    });
    this.nonce += 1n;
    return receipt;
  }
}
