/**
 * `hexmesh-router`: the router's example command line.
 *
 *   HEXMESH_ROUTER_KEY=0x… hexmesh-router sign-receipts --chain-id 31337 --settlement 0x… \
 *     --first-nonce 0 --in packets.jsonl --out receipts.json
 *
 * `packets.jsonl`: one packet per line, `{"hotspot":"<device id>","payload":"0x<bytes>","time":"<Unix ms>"}`.
 * Writes `{"receipts":[…]}` (the body `POST /v1/receipts` takes) and prints the next nonce to use.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { fromHex, isHexBytes } from "../hex.js";
import { encodePacketReceipt } from "../receipts/receipt.js";
import { dataTransferDomain } from "../receipts/types.js";
import { ReceiptSigner, type CarriedPacket } from "./router.js";

const USAGE = `usage: hexmesh-router sign-receipts --chain-id <id> --settlement <address> --first-nonce <n> --in <packets.jsonl> [--out <receipts.json>]
  the router's key: HEXMESH_ROUTER_KEY (0x + 64 hex digits)`;

class UsageError extends Error {}

function packetOf(line: string, n: number): CarriedPacket {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new UsageError(`line ${n}: not JSON`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o.hotspot !== "string" || !/^[1-9][0-9]*$/.test(o.hotspot))
    throw new UsageError(`line ${n}: hotspot must be a decimal device id string`);
  if (typeof o.payload !== "string" || !/^0x([0-9a-f]{2})+$/.test(o.payload))
    throw new UsageError(`line ${n}: payload must be 0x + lowercase hex bytes`);
  if (typeof o.time !== "string" || !/^[0-9]+$/.test(o.time))
    throw new UsageError(`line ${n}: time must be Unix ms as a decimal string`);
  return { hotspot: BigInt(o.hotspot), payload: fromHex(o.payload), time: BigInt(o.time) };
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command !== "sign-receipts")
    throw new UsageError(command === undefined ? "no command" : `unknown command ${command}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      "chain-id": { type: "string" },
      settlement: { type: "string" },
      "first-nonce": { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const key = process.env.HEXMESH_ROUTER_KEY ?? "";
  if (!isHexBytes(key.toLowerCase(), 32))
    throw new UsageError("set HEXMESH_ROUTER_KEY to the router's private key");
  const chainId = values["chain-id"];
  const settlement = values.settlement?.toLowerCase();
  const firstNonce = values["first-nonce"];
  if (chainId === undefined || !/^[1-9][0-9]*$/.test(chainId))
    throw new UsageError("--chain-id must be a chain id");
  if (settlement === undefined || !isHexBytes(settlement, 20))
    throw new UsageError("--settlement must be an address");
  if (firstNonce === undefined || !/^[0-9]+$/.test(firstNonce))
    throw new UsageError("--first-nonce must be a number");
  if (values.in === undefined) throw new UsageError("--in is required");
  const signer = new ReceiptSigner(
    fromHex(key.toLowerCase()),
    dataTransferDomain(BigInt(chainId), settlement),
    BigInt(firstNonce),
  );
  const lines = readFileSync(values.in, "utf8").split("\n");
  const receipts = lines
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== "")
    .map(([line, n]) => encodePacketReceipt(signer.sign(packetOf(line, n))));
  const text = JSON.stringify({ receipts }, null, 2) + "\n";
  if (values.out === undefined) process.stdout.write(text);
  else writeFileSync(values.out, text);
  process.stderr.write(
    `signed ${receipts.length} receipts as ${signer.router}; next nonce ${signer.nextNonce}\n`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  const usage =
    error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`hexmesh-router: ${(error as Error).message}\n${usage ? USAGE + "\n" : ""}`);
  process.exitCode = usage ? 2 : 1;
}
