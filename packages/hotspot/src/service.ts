/** Builds a running agent from a configuration (what `hexmesh-hotspot run` does). */
import type { Hex } from "@hexmesh/protocol";

import { HotspotAgent, type AgentOptions } from "./agent.js";
import { REGIONS, type AgentConfig } from "./config.js";
import { loadDeviceKey } from "./key.js";
import { ReportQueue } from "./queue.js";
import type { RadioAdapter } from "./radio/adapter.js";
import { SemtechUdpAdapter } from "./radio/semtech-udp.js";

/** A radio that hears nothing and refuses to transmit: an agent that only drains its queue. */
class NoRadio implements RadioAdapter {
  async start(): Promise<void> {}
  async transmit(): Promise<void> {
    throw new Error('radio.type is "none": this agent cannot transmit beacons');
  }
  async stop(): Promise<void> {}
}

export interface RunningAgent {
  readonly agent: HotspotAgent;
  readonly queue: ReportQueue;
  readonly radio: RadioAdapter;
  stop(): Promise<void>;
}

export async function startAgent(
  cfg: AgentConfig,
  extra: Pick<AgentOptions, "log" | "retryBaseMs" | "maxRetryMs"> & { radio?: RadioAdapter } = {},
): Promise<RunningAgent> {
  const key = loadDeviceKey(cfg.key);
  const radio =
    extra.radio ??
    (cfg.radio.type === "semtech-udp"
      ? new SemtechUdpAdapter({
          host: cfg.radio.host,
          port: cfg.radio.port,
          ...(cfg.radio.gatewayEui !== undefined ? { gatewayEui: cfg.radio.gatewayEui } : {}),
        })
      : new NoRadio());
  const queue = new ReportQueue(cfg.queue);
  const agent = new HotspotAgent({
    key,
    domain: { chainId: BigInt(cfg.chainId), verifyingContract: cfg.registry.toLowerCase() as Hex },
    oracles: cfg.oracles,
    radio,
    queue,
    region: REGIONS[cfg.region]!,
    beacon: cfg.beacon,
    beaconIntervalMs: cfg.beaconIntervalMs,
    ...(cfg.maxBeaconDelayMs !== undefined ? { maxBeaconDelayMs: cfg.maxBeaconDelayMs } : {}),
    batchMax: cfg.batchMax,
    ...(extra.log !== undefined ? { log: extra.log } : {}),
    ...(extra.retryBaseMs !== undefined ? { retryBaseMs: extra.retryBaseMs } : {}),
    ...(extra.maxRetryMs !== undefined ? { maxRetryMs: extra.maxRetryMs } : {}),
  });
  try {
    await agent.start();
  } catch (e) {
    queue.close();
    throw e;
  }
  return {
    agent,
    queue,
    radio,
    async stop() {
      await agent.stop();
      queue.close();
    },
  };
}
