/**
 * Staking: stake with an EIP-2612 permit (one signature, one transaction) or approve + stake, request
 * unstake, pending requests with a countdown in chain time, cancel, withdraw when ready, claim the
 * streamed staking rewards.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useConnection } from "wagmi";

import { MeshTokenAbi, StakingVaultAbi } from "@hexmesh/contracts/abis";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { TxStatus, useTransaction } from "../components/Wallet";
import { useApp } from "../lib/context";
import { chainTime, duration, mesh, parseAmount } from "../lib/format";
import { signPermit } from "../lib/permit";
import { useStaker } from "../lib/useData";

export function Stake() {
  const account = useConnection();
  const staker = account.address;
  const { client, config } = useApp();
  const queries = useQueryClient();
  const state = useStaker(staker);
  const tx = useTransaction(() => void queries.invalidateQueries());
  const [stakeText, setStakeText] = useState("");
  const [unstakeText, setUnstakeText] = useState("");

  if (staker === undefined)
    return (
      <section>
        <h1>Stake</h1>
        <p>Connect a wallet to stake.</p>
      </section>
    );
  const vault = { address: config.addresses.vault, abi: StakingVaultAbi } as const;
  const s = state.data;

  function amountOr(text: string, label: string): bigint | null {
    const v = parseAmount(text);
    if (v === null) tx.fail(`${label}: enter a positive amount of MESH (up to 18 decimals)`);
    return v;
  }

  async function stakeWithPermit() {
    const value = amountOr(stakeText, "Stake with permit");
    if (value === null) return;
    await tx.run("Stake with permit", async (wallet) => {
      const p = await signPermit(wallet, client, config.addresses.token, config.addresses.vault, value);
      return wallet.writeContract({
        account: wallet.account,
        chain: wallet.chain,
        ...vault,
        functionName: "stakeWithPermit",
        args: [value, p.deadline, p.v, p.r, p.s],
      });
    });
  }

  async function approveAndStake() {
    const value = amountOr(stakeText, "Approve and stake");
    if (value === null) return;
    const approved = await tx.write("Approve", {
      address: config.addresses.token,
      abi: MeshTokenAbi,
      functionName: "approve",
      args: [config.addresses.vault, value],
    });
    if (!approved) return;
    await tx.write("Stake", {
      ...vault,
      functionName: "stake",
      args: [value],
    });
  }

  const call = (label: string, functionName: "cancelUnstake" | "withdraw", id: bigint) => () =>
    void tx.write(label, {
      ...vault,
      functionName,
      args: [id],
    });

  return (
    <section>
      <h1>Stake</h1>
      {s ? (
        <>
          <dl className="stats">
            <div>
              <dt>Wallet balance</dt>
              <dd data-testid="stake-balance">{mesh(s.balance, 4)} MESH</dd>
            </div>
            <div>
              <dt>Active stake</dt>
              <dd data-testid="stake-active">{mesh(s.activeStake, 4)} MESH</dd>
            </div>
            <div>
              <dt>Pending unstake</dt>
              <dd data-testid="stake-pending">{mesh(s.pendingUnstake, 4)} MESH</dd>
            </div>
            <div>
              <dt>Staking rewards earned</dt>
              <dd data-testid="stake-earned">{mesh(s.earned, 6)} MESH</dd>
            </div>
            <div>
              <dt>Unstake cooldown</dt>
              <dd>{duration(s.cooldown)}</dd>
            </div>
          </dl>
          <AsOf at={s} />
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      <form className="row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Amount to stake (MESH){" "}
          <input
            name="stake-amount"
            inputMode="decimal"
            value={stakeText}
            onChange={(e) => setStakeText(e.target.value)}
          />
        </label>
        <button type="button" onClick={() => void stakeWithPermit()}>
          Stake with permit
        </button>
        <button type="button" onClick={() => void approveAndStake()}>
          Approve and stake
        </button>
      </form>
      <form className="row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Amount to unstake (MESH){" "}
          <input
            name="unstake-amount"
            inputMode="decimal"
            value={unstakeText}
            onChange={(e) => setUnstakeText(e.target.value)}
          />
        </label>
        <button
          type="button"
          onClick={() => {
            const value = amountOr(unstakeText, "Request unstake");
            if (value !== null)
              void tx.write("Request unstake", {
                ...vault,
                functionName: "requestUnstake",
                args: [value],
              });
          }}
        >
          Request unstake
        </button>
        <button
          type="button"
          disabled={!s || s.earned === 0n}
          onClick={() =>
            void tx.write("Claim staking rewards", {
              ...vault,
              functionName: "claimRewards",
              args: [],
            })
          }
        >
          Claim staking rewards
        </button>
      </form>
      <TxStatus state={tx.state} />
      {s ? (
        <DataTable
          testId="unstake-requests"
          caption={`Pending unstake requests (countdown in chain time, block ${s.blockNumber})`}
          columns={[
            { header: "Request", cell: (r) => `#${r.id}` },
            { header: "Amount", cell: (r) => `${mesh(r.amount, 4)} MESH`, numeric: true },
            { header: "Unlocks at", cell: (r) => chainTime(r.unlockTime) },
            {
              header: "Ready in",
              cell: (r) => (r.unlockTime <= s.blockTime ? "ready" : duration(r.unlockTime - s.blockTime)),
            },
            {
              header: "Actions",
              cell: (r) => (
                <>
                  <button type="button" onClick={call(`Cancel request #${r.id}`, "cancelUnstake", r.id)}>
                    Cancel #{r.id.toString()}
                  </button>{" "}
                  <button
                    type="button"
                    disabled={r.unlockTime > s.blockTime}
                    onClick={call(`Withdraw request #${r.id}`, "withdraw", r.id)}
                  >
                    Withdraw #{r.id.toString()}
                  </button>
                </>
              ),
            },
          ]}
          rows={s.requests}
          rowKey={(r) => r.id.toString()}
          empty="no pending requests"
        />
      ) : null}
    </section>
  );
}
