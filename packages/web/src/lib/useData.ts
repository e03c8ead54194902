/** Queries shared by the pages: chain reads refresh every few seconds, oracle reads less often. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { readDevices, readNetwork, readOwner, readStaker } from "./chain";
import { useApp } from "./context";

const CHAIN_REFRESH_MS = 2_000;

export function useNetwork() {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["network"],
    queryFn: () => readNetwork(client, config),
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useDevices() {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["devices"],
    queryFn: () => readDevices(client, config),
    refetchInterval: 10_000,
  });
}

export function useOwnerChain(owner: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["owner-chain", owner],
    queryFn: () => readOwner(client, config, owner!),
    enabled: owner !== undefined,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useStaker(staker: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["staker", staker],
    queryFn: () => readStaker(client, config, staker!),
    enabled: staker !== undefined,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

/** Whether the oracle answers at all (GET /health). */
export function useOracleHealth() {
  const { oracle } = useApp();
  return useQuery({
    queryKey: ["oracle-health"],
    queryFn: () => oracle.health(),
    refetchInterval: 5_000,
    retry: false,
  });
}
