/**
 * `hexmesh-compute provider start`: the agent's blob server (outputs by hash) and its loop, one
 * round every pollMs, until SIGINT/SIGTERM. A round's error (the node unreachable, say) is logged and
 * the next round tries again: nothing held is lost, it is all in the state file.
 */
import { startBlobServer } from "../blobs/server.js";
import { connectCompute } from "../chain.js";
import { ProviderAgent, type AgentLog } from "./agent.js";
import type { ProviderConfig } from "./config.js";
import { ProviderState } from "./state.js";

export interface RunningProvider {
  readonly agent: ProviderAgent;
  /** The blob server's base URL (outputs are served there). */
  readonly blobUrl: string;
  stop(): Promise<void>;
}

export async function startProvider(config: ProviderConfig, log: AgentLog): Promise<RunningProvider> {
  const chain = await connectCompute(config.rpc, config.key, config.computeJobs);
  const state = new ProviderState(config.state);
  const blobs = await startBlobServer({ ...config.blobs, readOnly: true });
  const agent = new ProviderAgent(config, chain, state, blobs.store, log);
  log("started", { provider: chain.address, blobs: blobs.url, devices: config.devices.map((d) => d.id) });
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const loop = () => {
    round = agent.tick().catch((e: unknown) => log("round-failed", { error: (e as Error).message }));
    void round.then(() => {
      if (!stopping) timer = setTimeout(loop, config.pollMs);
    });
  };
  loop();
  return {
    agent,
    blobUrl: blobs.url,
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await round;
      await blobs.close();
      state.close();
      chain.close();
    },
  };
}
