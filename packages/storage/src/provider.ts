/**
 * `hexmesh-storage provider start`: the piece store, its HTTP server and the chain loop together.
 */
import { JsonRpcProvider } from "ethers";

import { ProviderAgent, type AgentEvent } from "./agent.js";
import type { ProviderConfig } from "./config.js";
import { loadSigner } from "./keys.js";
import { buildServer } from "./server.js";
import { PieceStore } from "./store.js";

export interface RunningProvider {
  url: string;
  agent: ProviderAgent;
  stop(): Promise<void>;
}

export async function startProvider(
  config: ProviderConfig,
  options: { env?: NodeJS.ProcessEnv; log?: (e: AgentEvent) => void } = {},
): Promise<RunningProvider> {
  const store = new PieceStore(config.dataDir);
  await store.init();
  const chain = new JsonRpcProvider(config.rpcUrl, undefined, {
    polling: true,
    pollingInterval: config.pollMs,
  });
  const signer = await loadSigner("HEXMESH_PROVIDER_KEY", chain, options.env);
  const agent = new ProviderAgent(config, signer, store, options.log);
  const server = buildServer({
    store,
    maxPieceBytes: config.maxPieceBytes,
    health: () => ({ provider: signer.address, deviceId: config.deviceId, ...agent.status }),
  });
  const url = await server.listen({ host: config.host, port: config.port });
  await agent.start();
  return {
    url,
    agent,
    async stop() {
      await agent.stop();
      await server.close();
      chain.destroy();
    },
  };
}
