/**
 * Packet forwarders simulated over UDP (Semtech protocol v2, the gateway side), for tests and for
 * docs/operate.md's walkthrough where no LoRa concentrator is at hand: a forwarder keeps its downlink
 * open with PULL_DATA, answers PULL_RESP with TX_ACK and hands the txpk to the air, and pushes what
 * it "receives" as PUSH_DATA rxpk. `linkByAir` connects forwarders: what one transmits, every other
 * receives at a plausible signal (15 dB under the free-space bound at the given distance).
 */
import dgram from "node:dgram";

import { PROTOCOL_VERSION, PULL_DATA, PULL_RESP, PUSH_DATA, TX_ACK } from "@hexmesh/hotspot";
import { maxRssiDbm } from "@hexmesh/protocol";

export type Txpk = Record<string, unknown>;

export class SimulatedForwarder {
  readonly socket = dgram.createSocket("udp4");
  readonly acks: number[] = [];
  readonly txpks: Txpk[] = [];
  txAckError = "NONE";
  private token = 1;

  constructor(
    private readonly agentPort: number,
    private readonly air: (txpk: Txpk) => void,
    readonly eui = Buffer.from("aa555a0000000001", "hex"),
    private readonly agentHost = "127.0.0.1",
  ) {
    this.socket.on("message", (msg) => {
      if (msg[3] === PULL_RESP) {
        const { txpk } = JSON.parse(msg.subarray(4).toString()) as { txpk: Txpk };
        this.txpks.push(txpk);
        const ack = Buffer.from(JSON.stringify({ txpk_ack: { error: this.txAckError } }));
        this.send(Buffer.concat([Buffer.from([PROTOCOL_VERSION, msg[1]!, msg[2]!, TX_ACK]), this.eui, ack]));
        if (this.txAckError === "NONE") this.air(txpk);
      } else {
        this.acks.push(msg[3]!);
      }
    });
  }

  send(buf: Buffer): void {
    this.socket.send(buf, this.agentPort, this.agentHost);
  }

  header(id: number): Buffer {
    const t = this.token++;
    return Buffer.from([PROTOCOL_VERSION, t >> 8, t & 0xff, id]);
  }

  pull(): void {
    this.send(Buffer.concat([this.header(PULL_DATA), this.eui]));
  }

  push(rxpk: Record<string, unknown>[]): void {
    const body = Buffer.from(JSON.stringify({ rxpk }));
    this.send(Buffer.concat([this.header(PUSH_DATA), this.eui, body]));
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * One forwarder per agent port, all within `distanceM` of each other with antennas of `gainDbi`:
 * each transmission is received by every other forwarder.
 */
export function linkByAir(
  agentPorts: readonly number[],
  distanceM: number,
  gainDbi: number,
  onAir: (from: number, txpk: Txpk) => void = () => {},
): SimulatedForwarder[] {
  const forwarders: SimulatedForwarder[] = [];
  const air = (from: number) => (txpk: Txpk) => {
    onAir(from, txpk);
    const freq = txpk.freq as number;
    const rssi = Math.floor(maxRssiDbm(txpk.powe as number, gainDbi, distanceM, freq * 1e6, gainDbi) - 15);
    for (const [i, f] of forwarders.entries()) {
      if (i === from) continue;
      f.push([
        {
          tmst: 1_000_000,
          chan: 0,
          rfch: 0,
          freq,
          stat: 1,
          modu: "LORA",
          datr: txpk.datr,
          codr: "4/5",
          rssi,
          lsnr: Math.max(-6, Math.min(9.5, (rssi * 10 + 1130) / 10)),
          size: txpk.size,
          data: txpk.data,
        },
      ]);
    }
  };
  for (const [i, port] of agentPorts.entries()) {
    const eui = Buffer.from(`aa555a00000000${(i + 1).toString(16).padStart(2, "0")}`, "hex");
    forwarders.push(new SimulatedForwarder(port, air(i), eui));
  }
  return forwarders;
}
