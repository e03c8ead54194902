/** Queries shared by the pages: chain reads refresh every few seconds, oracle reads less often. */
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";

import { readDevices, readNetwork, readOwner, readOwnerRewards, readStaker } from "./chain";
import { useApp } from "./context";
import { readCredits, readDataSet, readDataSets, readJob, readJobs } from "./market";

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

/** The owner's claimed amount and the live root of one rewards distributor. */
export function useOwnerRewardsChain(distributor: Address, owner: Address | undefined) {
  const { client } = useApp();
  return useQuery({
    queryKey: ["owner-rewards-chain", distributor, owner],
    queryFn: () => readOwnerRewards(client, distributor, owner!),
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

export function useCredits(account: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["credits", account],
    queryFn: () => readCredits(client, config, account!),
    enabled: account !== undefined,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useDataSets(account: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["data-sets", account],
    queryFn: () => readDataSets(client, config, account!),
    enabled: account !== undefined,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useDataSet(id: bigint | null, account: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["data-set", id?.toString(), account],
    queryFn: () => readDataSet(client, config, id!, account),
    enabled: id !== null,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useJobs(account: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["jobs", account],
    queryFn: () => readJobs(client, config, account!),
    enabled: account !== undefined,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}

export function useJob(id: bigint | null, account: Address | undefined) {
  const { client, config } = useApp();
  return useQuery({
    queryKey: ["job", id?.toString(), account],
    queryFn: () => readJob(client, config, id!, account),
    enabled: id !== null,
    refetchInterval: CHAIN_REFRESH_MS,
  });
}
