/**
 * The beacon payload: what a beaconing device transmits. It is derived from the oracle's remote
 * entropy (so it cannot be prepared before that entropy was published), the device's local entropy
 * (so the oracle cannot predict it either) and the beaconer's key id (so a device that overhears a
 * beacon cannot re-sign it as its own: the copy's payload would have to change, and the witnesses
 * of the original cite the original). Anyone can rebuild it from the three.
 *
 *   payload            = keccak256(remoteEntropy ‖ localEntropy ‖ device)   (32 + 32 + 20 bytes in)
 *   beaconPayloadHash  = keccak256(payload)                                 (what witnesses sign)
 */
import { keccak256Into } from "../crypto/keccak.js";
import { toHex, writeHex, type Hex } from "../hex.js";

/** Bytes hashed into a payload: remote entropy, local entropy, device key id (an address). */
export const PAYLOAD_INPUT_BYTES = 84;

const buf = new Uint8Array(PAYLOAD_INPUT_BYTES);
const out = new Uint8Array(32);

export function beaconPayload(remoteEntropy: Hex, localEntropy: Hex, device: Hex): Hex {
  writeHex(buf, 0, remoteEntropy);
  writeHex(buf, 32, localEntropy);
  writeHex(buf, 64, device);
  keccak256Into(buf, 0, PAYLOAD_INPUT_BYTES, out, 0);
  return toHex(out);
}

export function payloadHash(payload: Hex): Hex {
  writeHex(buf, 0, payload);
  keccak256Into(buf, 0, 32, out, 0);
  return toHex(out);
}
