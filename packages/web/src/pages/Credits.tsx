/**
 * Usage credits: the connected wallet's balance; burning MESH for credits at the chain's price (the
 * price, its source and age, the credits the burn gives, quoted by the ledger), with an EIP-2612
 * permit or approve + burn; the markets that may spend the credits (allowance, locked, consumed) and
 * every UsageRecorded consumption of this account, and its purchases.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatUnits, maxUint128 } from "viem";
import { useConnection } from "wagmi";

import { MeshTokenAbi, UsageCreditsAbi } from "@hexmesh/contracts/abis";

import { AsOf } from "../components/AsOf";
import { DataTable } from "../components/DataTable";
import { Notice } from "../components/Notice";
import { reason, TxStatus, useTransaction } from "../components/Wallet";
import { useApp } from "../lib/context";
import { chainTime, credits, duration, mesh, parseAmount, shortHex } from "../lib/format";
import { creditsAddress, MARKET_ERRORS } from "../lib/market";
import { signPermit } from "../lib/permit";
import { useCredits } from "../lib/useData";

const usd = (price: bigint) => `$${formatUnits(price, 18)}`;

export function Credits() {
  const account = useConnection().address;
  const { client, config } = useApp();
  const queries = useQueryClient();
  const state = useCredits(account);
  const tx = useTransaction(() => void queries.invalidateQueries(), MARKET_ERRORS);
  const [burnText, setBurnText] = useState("");
  const burnAmount = parseAmount(burnText);
  const quote = useQuery({
    queryKey: ["quote", burnAmount?.toString()],
    queryFn: async () => {
      const block = await client.getBlockNumber();
      const v = await client.readContract({
        address: creditsAddress(config),
        abi: UsageCreditsAbi,
        functionName: "quote",
        args: [burnAmount!],
        blockNumber: block,
      });
      return { credits: v, blockNumber: block };
    },
    enabled: burnAmount !== null && config.addresses.credits !== undefined,
    retry: false,
  });

  if (account === undefined)
    return <Notice title="Credits" text="Connect a wallet to see and buy usage credits." />;
  if (state.isError) return <Notice title="Credits" text={state.error.message} alert />;
  const s = state.data;
  const ledger = config.addresses.credits!;
  const ledgerContract = { address: ledger, abi: UsageCreditsAbi } as const;

  /** The amount to burn and the least credits accepted (the ledger's quote), or null after saying why. */
  function burnTerms(label: string): { value: bigint; minCredits: bigint } | null {
    if (burnAmount === null) {
      tx.fail(`${label}: enter a positive amount of MESH (up to 18 decimals)`);
      return null;
    }
    if (quote.data === undefined) {
      tx.fail(
        `${label}: no quote from the ledger${quote.error ? ` (${reason(quote.error, MARKET_ERRORS)})` : ""}`,
      );
      return null;
    }
    return { value: burnAmount, minCredits: quote.data.credits };
  }

  async function burnWithPermit() {
    const terms = burnTerms("Burn with permit");
    if (terms === null) return;
    await tx.run("Burn with permit", async (wallet) => {
      const p = await signPermit(wallet, client, config.addresses.token, ledger, terms.value);
      const { request } = await client.simulateContract({
        account: wallet.account,
        ...ledgerContract,
        functionName: "burnForCreditsWithPermit",
        args: [terms.value, terms.minCredits, account!, p.deadline, p.v, p.r, p.s],
      });
      return wallet.writeContract(request);
    });
  }

  async function approveAndBurn() {
    const terms = burnTerms("Approve and burn");
    if (terms === null) return;
    const approved = await tx.write("Approve", {
      address: config.addresses.token,
      abi: MeshTokenAbi,
      functionName: "approve",
      args: [ledger, terms.value],
    });
    if (!approved) return;
    await tx.write("Burn", {
      ...ledgerContract,
      functionName: "burnForCredits",
      args: [terms.value, terms.minCredits, account!],
    });
  }

  const setAllowance = (label: string, spender: `0x${string}`, allowance: bigint) => () =>
    void tx.write(label, { ...ledgerContract, functionName: "approveSpender", args: [spender, allowance] });

  return (
    <section>
      <h1>Credits</h1>
      <p>
        Credits pay for data transfer, storage and compute: 1,000,000 credits are $1. They are bought by
        burning MESH at the chain&apos;s MESH/USD price, cannot be transferred, and are spent only by the
        markets below, within the allowance given to each.
      </p>
      {s ? (
        <>
          <dl className="stats">
            <div>
              <dt>Credit balance</dt>
              <dd data-testid="credits-balance">{credits(s.balance)}</dd>
            </div>
            <div>
              <dt>MESH in the wallet</dt>
              <dd data-testid="credits-mesh">{mesh(s.meshBalance, 4)} MESH</dd>
            </div>
            <div>
              <dt>Price a burn uses</dt>
              <dd data-testid="credits-price">
                {s.price.creditPrice === null
                  ? "stale: burns are refused"
                  : `${usd(s.price.creditPrice)} per MESH`}
              </dd>
            </div>
            <div>
              <dt>Latest price</dt>
              <dd data-testid="credits-latest">
                {usd(s.price.latest)} per MESH, observed {chainTime(s.price.updatedAt)} (
                {duration(s.blockTime - s.price.updatedAt)} old; usable for {duration(s.price.maxAge)})
              </dd>
            </div>
            <div>
              <dt>24-hour average</dt>
              <dd>{usd(s.price.average)} per MESH</dd>
            </div>
            <div>
              <dt>Price source</dt>
              <dd data-testid="credits-source">
                {s.price.sourceKind}, <code title={s.price.source}>{shortHex(s.price.source)}</code>
              </dd>
            </div>
          </dl>
          <AsOf at={s} />
          <p>A burn uses the lower of the latest price and its 24-hour average (fewer credits per MESH).</p>
        </>
      ) : (
        <p>Reading the chain…</p>
      )}
      <form className="row" onSubmit={(e) => e.preventDefault()}>
        <label>
          MESH to burn for credits{" "}
          <input
            name="burn-amount"
            inputMode="decimal"
            value={burnText}
            onChange={(e) => setBurnText(e.target.value)}
          />
        </label>
        <button type="button" onClick={() => void burnWithPermit()}>
          Burn with permit
        </button>
        <button type="button" onClick={() => void approveAndBurn()}>
          Approve and burn
        </button>
      </form>
      <p data-testid="credits-quote" aria-live="polite">
        {burnAmount === null
          ? "Enter an amount to see the credits it buys."
          : quote.data
            ? `Burning ${mesh(burnAmount, 4)} MESH gives ${credits(quote.data.credits)} (the ledger's quote at block ${quote.data.blockNumber}; the burn is refused if it would give fewer).`
            : quote.error
              ? `No quote: ${reason(quote.error, MARKET_ERRORS)}`
              : "Asking the ledger…"}
      </p>
      <TxStatus state={tx.state} />
      {s ? (
        <>
          <DataTable
            testId="credit-spenders"
            caption={`Markets that may spend these credits (block ${s.blockNumber})`}
            columns={[
              { header: "Market", cell: (r) => r.market ?? "unknown subnetwork" },
              { header: "Contract", cell: (r) => <code title={r.address}>{shortHex(r.address)}</code> },
              {
                header: "Allowance",
                cell: (r) => (r.allowance >= maxUint128 ? "unlimited" : r.allowance.toLocaleString("en-US")),
                numeric: true,
              },
              { header: "Locked", cell: (r) => r.locked.toLocaleString("en-US"), numeric: true },
              { header: "Consumed", cell: (r) => r.consumed.toLocaleString("en-US"), numeric: true },
              {
                header: "Actions",
                cell: (r) => {
                  const name = r.market ?? shortHex(r.address);
                  return (
                    <>
                      <button
                        type="button"
                        disabled={r.allowance >= maxUint128}
                        onClick={setAllowance(`Allow ${name}`, r.address, maxUint128)}
                      >
                        Allow {name}
                      </button>{" "}
                      <button
                        type="button"
                        disabled={r.allowance === 0n}
                        onClick={setAllowance(`Revoke ${name}`, r.address, 0n)}
                      >
                        Revoke {name}
                      </button>
                    </>
                  );
                },
              },
            ]}
            rows={s.spenders}
            rowKey={(r) => r.address}
            empty="no market is registered"
          />
          <DataTable
            testId="credit-usage"
            caption={`Credits consumed from this account (UsageRecorded, to block ${s.blockNumber})`}
            columns={[
              { header: "Block", cell: (r) => r.blockNumber.toString(), numeric: true },
              { header: "Market", cell: (r) => r.market ?? shortHex(r.subnetwork) },
              { header: "Epoch", cell: (r) => r.epoch.toString(), numeric: true },
              { header: "Provider", cell: (r) => <code title={r.provider}>{shortHex(r.provider)}</code> },
              { header: "Credits", cell: (r) => r.credits.toLocaleString("en-US"), numeric: true },
              { header: "Transaction", cell: (r) => <code title={r.tx}>{shortHex(r.tx)}</code> },
            ]}
            rows={s.usage}
            rowKey={(r) => `${r.tx}-${r.provider}-${r.credits}`}
            empty="nothing consumed yet"
          />
          <DataTable
            testId="credit-purchases"
            caption={`Credits bought for this account (CreditsBought, to block ${s.blockNumber})`}
            columns={[
              { header: "Block", cell: (r) => r.blockNumber.toString(), numeric: true },
              { header: "MESH burned", cell: (r) => `${mesh(r.meshAmount, 4)} MESH`, numeric: true },
              { header: "Credits", cell: (r) => r.credits.toLocaleString("en-US"), numeric: true },
              { header: "Price", cell: (r) => `${usd(r.price)} per MESH`, numeric: true },
              { header: "Paid by", cell: (r) => <code title={r.buyer}>{shortHex(r.buyer)}</code> },
            ]}
            rows={s.purchases}
            rowKey={(r) => r.tx}
            empty="no purchases yet"
          />
        </>
      ) : null}
    </section>
  );
}
