import { readFileSync } from "node:fs";

import { getAddress, isAddress, isHexString } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";

import {
  formatMesh,
  openSuite,
  requireNotPaused,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

interface ClaimArgs extends CommonArgs {
  owner: string;
  oracle: string;
  proofFile: string;
}

interface OwnerProof {
  cumulative: bigint;
  proof: string[];
}

/**
 * Checks a proof document: the oracle's `GET /v1/owners/:address` answer (saved to a file or fetched)
 * or a bare `{cumulative, proof}` (cumulative in wei, as a decimal string). A document that names
 * its owner must name the owner being claimed for.
 */
function parseProof(json: unknown, source: string, owner: string): OwnerProof {
  const o = json as { owner?: unknown; cumulative?: unknown; proof?: unknown };
  if (
    o?.owner !== undefined &&
    (typeof o.owner !== "string" || o.owner.toLowerCase() !== owner.toLowerCase())
  ) {
    throw new TaskError(`${source} is the proof of ${String(o.owner)}, not of ${owner} (pass --owner)`);
  }
  const cumulative =
    typeof o?.cumulative === "string" || typeof o?.cumulative === "number" ? String(o.cumulative) : "";
  if (!/^\d+$/.test(cumulative))
    throw new TaskError(`${source}: "cumulative" must be a wei amount as a decimal string`);
  if (!Array.isArray(o.proof) || !o.proof.every((p) => typeof p === "string" && isHexString(p, 32))) {
    throw new TaskError(`${source}: "proof" must be an array of 32-byte hex strings`);
  }
  return { cumulative: BigInt(cumulative), proof: o.proof as string[] };
}

/** The owner's proof for the live root from the oracle's API (GET /v1/owners/:address). */
async function fetchProof(base: string, owner: string): Promise<OwnerProof> {
  const oracle = new OracleClient(base);
  try {
    const answer = await oracle.owner(owner);
    return parseProof(answer, `the answer of the oracle at ${oracle.baseUrl}`, owner);
  } catch (e) {
    if (!(e instanceof OracleApiError)) throw e;
    if (e.unreachable) throw new TaskError(`cannot reach the oracle at ${e.url}: ${e.apiMessage}`);
    if (e.status === 404)
      throw new TaskError(`the oracle has no rewards for ${owner}: ${e.apiMessage} (${e.url}: HTTP 404)`);
    throw new TaskError(`the oracle at ${oracle.baseUrl} cannot serve a proof: ${e.message}`);
  }
}

/** Claims `cumulative - claimed` against the live root; anyone may submit, the owner is paid. */
export default async function claimCoverage(args: ClaimArgs, hre: HardhatRuntimeEnvironment) {
  if ((args.oracle === "") === (args.proofFile === ""))
    throw new TaskError("give exactly one of --oracle <url> and --proof-file <file>");
  const suite = await openSuite(hre, args);
  const who = args.owner === "" ? suite.signer.address : args.owner;
  if (!isAddress(who)) throw new TaskError(`--owner must be an address, got "${who}"`);
  const owner = getAddress(who);
  let proof: OwnerProof;
  if (args.proofFile !== "") {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(args.proofFile, "utf8"));
    } catch (e) {
      throw new TaskError(`cannot read proof file ${args.proofFile}: ${(e as Error).message}`);
    }
    proof = parseProof(json, args.proofFile, owner);
  } else {
    proof = await fetchProof(args.oracle, owner);
  }
  await requireNotPaused(suite.distributor, "coverage rewards distributor");
  const claimed = await suite.distributor.claimed(owner);
  if (proof.cumulative <= claimed) {
    throw new TaskError(
      `nothing to claim for ${owner}: lifetime ${formatMesh(proof.cumulative)}, already claimed ${formatMesh(claimed)}`,
    );
  }
  suite.log(`claiming ${formatMesh(proof.cumulative - claimed)} of coverage rewards for ${owner}`);
  return {
    ...(await sendOrDryRun(
      suite,
      suite.distributor,
      "claim",
      [owner, proof.cumulative, proof.proof],
      args.dryRun,
    )),
    amount: proof.cumulative - claimed,
  };
}
