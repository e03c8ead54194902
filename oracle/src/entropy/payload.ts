/**
 * The beacon payload: what a beaconing device transmits. It is derived from the oracle's remote
 * entropy (so it cannot be prepared before that entropy was published) and the device's local
 * entropy (so the oracle cannot predict it either), and anyone can rebuild it from both.
 *
 *   payload            = keccak256(remoteEntropy ‖ localEntropy)        (64 bytes in, bytes32 out)
 *   beaconPayloadHash  = keccak256(payload)                             (what witnesses sign)
 */
import { keccak256Into } from "../crypto/keccak.js";
import { toHex, writeHex, type Hex } from "../util/hex.js";

const buf = new Uint8Array(64);
const out = new Uint8Array(32);

export function beaconPayload(remoteEntropy: Hex, localEntropy: Hex): Hex {
  writeHex(buf, 0, remoteEntropy);
  writeHex(buf, 32, localEntropy);
  keccak256Into(buf, 0, 64, out, 0);
  return toHex(out);
}

export function payloadHash(payload: Hex): Hex {
  writeHex(buf, 0, payload);
  keccak256Into(buf, 0, 32, out, 0);
  return toHex(out);
}
