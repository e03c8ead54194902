/**
 * The agent's own small state, one JSON file written atomically (temporary file, fsync, rename), so
 * a crash leaves the previous or the next version, never half of one. The chain stays the authority
 * (whether a period is proven is read from the contract); the file only saves rescanning and
 * records what the agent did.
 */
import { open, readFile, rename } from "node:fs/promises";

export interface DataSetState {
  /** The pieces in data set order, as added on chain (they never change once added). */
  pieces: { root: string; size: number }[];
  /** Last period this agent proved (decimal), if any. */
  lastProvenPeriod?: string;
  /** The data set ended (nothing more to do). */
  terminated?: boolean;
}

export interface AgentState {
  /** Last block scanned for DataSetCreated. */
  scannedBlock: number;
  dataSets: Record<string, DataSetState>;
}

export async function loadState(file: string, fromBlock: number): Promise<AgentState> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as AgentState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { scannedBlock: fromBlock - 1, dataSets: {} };
    throw new Error(`cannot read the agent state ${file}: ${(e as Error).message}`);
  }
}

export async function saveState(file: string, state: AgentState): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(JSON.stringify(state, null, 2));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
