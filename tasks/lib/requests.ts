import { TaskError, type Suite } from "./common.js";

export interface PendingRequest {
  id: bigint;
  amount: bigint;
  unlockTime: bigint;
}

/** The signer's pending requests, oldest first (ids count up from 1). */
export async function pendingRequests(suite: Suite, owner: string): Promise<PendingRequest[]> {
  const next = await suite.vault.nextRequestId(owner);
  const out: PendingRequest[] = [];
  for (let id = 1n; id < next; id++) {
    const [amount, unlockTime] = await suite.vault.unstakeRequest(owner, id);
    if (unlockTime !== 0n) out.push({ id, amount, unlockTime });
  }
  return out;
}

/** The request named by --request, or the signer's only pending one. */
export async function pendingRequest(suite: Suite, requestArg: string): Promise<PendingRequest> {
  const owner = suite.signer.address;
  if (requestArg === "") {
    const all = await pendingRequests(suite, owner);
    if (all.length === 0) throw new TaskError(`${owner} has no pending unstake request`);
    if (all.length > 1) {
      throw new TaskError(
        `${owner} has ${all.length} pending requests (${all.map((r) => r.id).join(", ")}); pass --request <id>`,
      );
    }
    return all[0]!;
  }
  if (!/^\d+$/.test(requestArg)) throw new TaskError(`--request must be a request id, got "${requestArg}"`);
  const id = BigInt(requestArg);
  const [amount, unlockTime] = await suite.vault.unstakeRequest(owner, id);
  if (unlockTime === 0n) throw new TaskError(`${owner} has no pending unstake request ${id}`);
  return { id, amount, unlockTime };
}
