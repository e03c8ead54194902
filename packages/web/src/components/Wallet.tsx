/**
 * Connect an injected wallet (EIP-6963 announcements only), show the account and its network, switch
 * to the app's network; and `useTransaction`, one path for every write: the wallet signs and sends,
 * the page waits for the receipt and says what happened (sent, confirmed, reverted, refused).
 */
import { useState } from "react";
import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  custom,
  decodeErrorResult,
  UserRejectedRequestError,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type SimulateContractParameters,
  type Transport,
  type WalletClient,
  type WriteContractParameters,
} from "viem";
import { useConfig, useConnect, useConnection, useConnectors, useDisconnect, useSwitchChain } from "wagmi";
import { getConnectorClient } from "wagmi/actions";

import { useApp } from "../lib/context";
import { shortHex } from "../lib/format";
import { explainRevert } from "../lib/revert";
import { chainOf } from "../lib/wallet";

export function WalletBar() {
  const { config } = useApp();
  const connectors = useConnectors();
  const { connect, error } = useConnect();
  const { disconnect } = useDisconnect();
  const { switchChain } = useSwitchChain();
  const account = useConnection();
  // Only wallets that announced themselves (EIP-6963 gives them an rdns).
  const announced = connectors.filter((c) => c.type === "injected" && c.id !== "injected");
  if (account.status === "connected" && account.address !== undefined) {
    const wrongChain = account.chainId !== config.chainId;
    return (
      <div className="wallet" data-testid="wallet">
        <span>
          Connected <code data-testid="account">{account.address}</code> on chain {account.chainId}
        </span>
        {wrongChain ? (
          <button type="button" onClick={() => switchChain({ chainId: config.chainId })}>
            Switch to {config.chainName}
          </button>
        ) : null}
        <button type="button" onClick={() => disconnect()}>
          Disconnect
        </button>
      </div>
    );
  }
  return (
    <div className="wallet" data-testid="wallet">
      {announced.length === 0 ? (
        <span>No browser wallet found (wallets announce themselves by EIP-6963).</span>
      ) : (
        announced.map((c) => (
          <button
            type="button"
            key={c.uid}
            onClick={() => connect({ connector: c, chainId: config.chainId })}
          >
            Connect {c.name}
          </button>
        ))
      )}
      {error ? <span role="alert">{error.message.split("\n")[0]}</span> : null}
    </div>
  );
}

export type TxState =
  | { readonly kind: "idle" }
  | { readonly kind: "busy"; readonly text: string }
  | { readonly kind: "done"; readonly text: string; readonly hash: Hash }
  | { readonly kind: "error"; readonly text: string };

/**
 * Why a wallet call failed, in a line. `errors`: the ABI of errors a call may bubble up from the
 * contracts it calls (a market reverting with the credits ledger's error), decoded when the called
 * contract's own ABI does not know them.
 */
export function reason(e: unknown, errors: Abi = []): string {
  if (e instanceof BaseError) {
    if (e.walk((x) => x instanceof UserRejectedRequestError) !== null)
      return "the wallet refused the request";
    // A custom error decoded by a simulation: the contract's own reason.
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      if (reverted.data !== undefined)
        return `refused by the contract: ${explainRevert(reverted.data.errorName, reverted.data.args)}`;
      if (reverted.raw !== undefined && errors.length > 0) {
        try {
          const d = decodeErrorResult({ abi: errors, data: reverted.raw });
          return `refused by the contract: ${explainRevert(d.errorName, d.args)}`;
        } catch {
          // an error none of these contracts declares: viem's own message below
        }
      }
    }
    return e.shortMessage;
  }
  const code = (e as { code?: number })?.code;
  if (code === 4001) return "the wallet refused the request";
  return e instanceof Error ? e.message : String(e);
}

/** The connected wallet as a viem wallet client (account and chain set). */
export type Wallet = WalletClient<Transport, Chain, Account>;

export function useTransaction(onDone: () => void, errors: Abi = []) {
  const wagmi = useConfig();
  const { client, config } = useApp();
  const [state, setState] = useState<TxState>({ kind: "idle" });
  async function run(label: string, send: (wallet: Wallet) => Promise<Hash>): Promise<boolean> {
    setState({ kind: "busy", text: `${label}: waiting for the wallet…` });
    try {
      const connected = await getConnectorClient(wagmi, { chainId: config.chainId });
      const wallet = createWalletClient({
        account: connected.account,
        chain: chainOf(config),
        transport: custom({ request: connected.request }),
      });
      const hash = await send(wallet);
      setState({ kind: "busy", text: `${label}: sent ${shortHex(hash)}, waiting for the block…` });
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") {
        setState({ kind: "error", text: `${label}: the transaction reverted (${shortHex(hash)})` });
        return false;
      }
      setState({ kind: "done", text: `${label}: confirmed in block ${receipt.blockNumber}`, hash });
      onDone();
      return true;
    } catch (e) {
      setState({ kind: "error", text: `${label}: ${reason(e, errors)}` });
      return false;
    }
  }
  /**
   * A contract call simulated first (a call the contract would refuse sends nothing, and its custom
   * error is decoded), then sent through the wallet.
   */
  function write<
    const abi extends Abi,
    functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
    const args extends ContractFunctionArgs<abi, "nonpayable" | "payable", functionName>,
  >(label: string, call: { address: Address; abi: abi; functionName: functionName; args: args }) {
    return run(label, async (wallet) => {
      // The call's types were checked at the call site (the generics above); viem's parameter types
      // cannot follow a generic abi through the spread.
      const params = {
        ...call,
        account: wallet.account,
        chain: wallet.chain,
      } as unknown as SimulateContractParameters<
        Abi,
        string,
        readonly unknown[],
        Chain | undefined,
        Chain,
        Account
      >;
      const { request } = await client.simulateContract(params);
      return wallet.writeContract(
        request as unknown as WriteContractParameters<Abi, string, readonly unknown[], Chain, Account>,
      );
    });
  }
  return { state, run, write, fail: (text: string) => setState({ kind: "error", text }) };
}

export function TxStatus({ state }: { readonly state: TxState }) {
  if (state.kind === "idle") return null;
  return (
    <p
      role={state.kind === "error" ? "alert" : "status"}
      className={`tx ${state.kind}`}
      data-testid="tx-status"
    >
      {state.text}
    </p>
  );
}
