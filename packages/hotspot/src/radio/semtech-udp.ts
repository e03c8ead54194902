/**
 * The Semtech UDP packet-forwarder protocol, version 2 (lora_gateway/packet_forwarder PROTOCOL.TXT),
 * server side: the protocol real LoRa gateways speak, so a concentrator's packet forwarder
 * (`server_address` = this agent, `serv_port_up` = `serv_port_down` = its port) drives the agent.
 *
 *   forwarder -> agent   PUSH_DATA  0x00  ver tok tok 0x00 EUI[8] JSON {"rxpk":[...], "stat":{...}}
 *   agent -> forwarder   PUSH_ACK   0x01  ver tok tok 0x01
 *   forwarder -> agent   PULL_DATA  0x02  ver tok tok 0x02 EUI[8]      (keep-alive; opens the downlink)
 *   agent -> forwarder   PULL_ACK   0x04  ver tok tok 0x04
 *   agent -> forwarder   PULL_RESP  0x03  ver tok tok 0x03 JSON {"txpk":{...}}
 *   forwarder -> agent   TX_ACK     0x05  ver tok tok 0x05 EUI[8] [JSON {"txpk_ack":{"error":"NONE"|...}}]
 *
 * Uplinks with a failed CRC (`stat` != 1) are dropped. A datagram that is not protocol version 2 or
 * not well formed is counted and dropped (`stats`), never answered.
 */
import dgram from "node:dgram";

import { datrOf, parseDatr, type Downlink, type RadioAdapter, type Uplink } from "./adapter.js";

export const PROTOCOL_VERSION = 2;
export const PUSH_DATA = 0x00;
export const PUSH_ACK = 0x01;
export const PULL_DATA = 0x02;
export const PULL_RESP = 0x03;
export const PULL_ACK = 0x04;
export const TX_ACK = 0x05;

export interface SemtechUdpOptions {
  /** Address to listen on (default 0.0.0.0). */
  readonly host?: string;
  /** UDP port (default 1700, the forwarders' default). 0: any free port (see `address()`). */
  readonly port?: number;
  /** Gateway EUI (16 hex digits) to transmit through; default: the last one that sent PULL_DATA. */
  readonly gatewayEui?: string;
  /** How long to wait for TX_ACK, ms (default 5,000). */
  readonly txAckTimeoutMs?: number;
}

export interface SemtechStats {
  pushData: number;
  pullData: number;
  rxpk: number;
  rxpkBadCrc: number;
  txAck: number;
  malformed: number;
}

interface Gateway {
  readonly address: string;
  readonly port: number;
}

export class SemtechUdpAdapter implements RadioAdapter {
  private socket: dgram.Socket | undefined;
  private readonly gateways = new Map<string, Gateway>();
  private lastPulled: string | undefined;
  private readonly pendingTx = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextToken = Math.floor(Math.random() * 0x10000);
  readonly stats: SemtechStats = { pushData: 0, pullData: 0, rxpk: 0, rxpkBadCrc: 0, txAck: 0, malformed: 0 };

  constructor(private readonly options: SemtechUdpOptions = {}) {}

  async start(onUplink: (u: Uplink) => void): Promise<void> {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (msg, rinfo) => this.onMessage(msg, rinfo, onUplink));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.options.port ?? 1700, this.options.host ?? "0.0.0.0", () => {
        socket.off("error", reject);
        resolve();
      });
    });
    this.socket = socket;
  }

  /** The bound address (for port 0). */
  address(): { address: string; port: number } {
    if (this.socket === undefined) throw new Error("the Semtech UDP adapter is not started");
    return this.socket.address();
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo, onUplink: (u: Uplink) => void): void {
    if (msg.length < 4 || msg[0] !== PROTOCOL_VERSION) {
      this.stats.malformed++;
      return;
    }
    const token = msg.readUInt16BE(1);
    const id = msg[3];
    switch (id) {
      case PUSH_DATA: {
        if (msg.length < 12) return void this.stats.malformed++;
        let body: { rxpk?: unknown };
        try {
          body = JSON.parse(msg.subarray(12).toString("utf8")) as { rxpk?: unknown };
        } catch {
          return void this.stats.malformed++;
        }
        this.stats.pushData++;
        this.send(Buffer.from([PROTOCOL_VERSION, msg[1]!, msg[2]!, PUSH_ACK]), rinfo);
        if (Array.isArray(body.rxpk)) for (const rx of body.rxpk) this.onRxpk(rx, onUplink);
        return;
      }
      case PULL_DATA: {
        if (msg.length !== 12) return void this.stats.malformed++;
        const eui = msg.subarray(4, 12).toString("hex");
        this.gateways.set(eui, { address: rinfo.address, port: rinfo.port });
        this.lastPulled = eui;
        this.stats.pullData++;
        this.send(Buffer.from([PROTOCOL_VERSION, msg[1]!, msg[2]!, PULL_ACK]), rinfo);
        return;
      }
      case TX_ACK: {
        const pending = this.pendingTx.get(token);
        if (pending === undefined) return;
        this.stats.txAck++;
        this.pendingTx.delete(token);
        let error = "NONE";
        if (msg.length > 12) {
          try {
            const ack = JSON.parse(msg.subarray(12).toString("utf8")) as { txpk_ack?: { error?: unknown } };
            if (typeof ack.txpk_ack?.error === "string") error = ack.txpk_ack.error;
          } catch {
            error = "malformed TX_ACK";
          }
        }
        if (error === "NONE") pending.resolve();
        else pending.reject(new Error(`the packet forwarder refused the transmission: ${error}`));
        return;
      }
      default:
        this.stats.malformed++;
    }
  }

  private onRxpk(rx: unknown, onUplink: (u: Uplink) => void): void {
    const p = rx as {
      stat?: unknown;
      freq?: unknown;
      datr?: unknown;
      modu?: unknown;
      rssi?: unknown;
      lsnr?: unknown;
      data?: unknown;
      rsig?: { rssic?: unknown; lsnr?: unknown }[];
    };
    if (p?.stat !== 1) {
      this.stats.rxpkBadCrc++;
      return;
    }
    const modulation = parseDatr(p.datr);
    // v2 forwarders with several antennas put the signal per chain in rsig.
    const rssi = typeof p.rssi === "number" ? p.rssi : p.rsig?.[0]?.rssic;
    const snr = typeof p.lsnr === "number" ? p.lsnr : p.rsig?.[0]?.lsnr;
    if (
      p.modu !== "LORA" ||
      modulation === null ||
      typeof p.freq !== "number" ||
      typeof rssi !== "number" ||
      typeof snr !== "number" ||
      typeof p.data !== "string"
    ) {
      this.stats.malformed++;
      return;
    }
    this.stats.rxpk++;
    onUplink({
      data: new Uint8Array(Buffer.from(p.data, "base64")),
      frequency: Math.round(p.freq * 1e6),
      modulation,
      rssi,
      snr,
    });
  }

  async transmit(d: Downlink): Promise<void> {
    if (this.socket === undefined) throw new Error("the Semtech UDP adapter is not started");
    const eui = this.options.gatewayEui?.toLowerCase() ?? this.lastPulled;
    const gw = eui === undefined ? undefined : this.gateways.get(eui);
    if (gw === undefined) {
      const { port } = this.address();
      throw new Error(
        eui === undefined
          ? `no packet forwarder has sent PULL_DATA to port ${port} yet: check its server_address and serv_port_down`
          : `gateway ${eui} has not sent PULL_DATA to port ${port} yet`,
      );
    }
    const token = this.nextToken;
    this.nextToken = (this.nextToken + 1) & 0xffff;
    const txpk = {
      imme: true,
      freq: d.frequency / 1e6,
      rfch: 0,
      powe: Math.round(d.powerDbm),
      modu: "LORA",
      datr: datrOf(d.modulation),
      codr: "4/5",
      ipol: false,
      size: d.data.length,
      data: Buffer.from(d.data).toString("base64"),
    };
    const body = Buffer.from(JSON.stringify({ txpk }), "utf8");
    const header = Buffer.from([PROTOCOL_VERSION, token >> 8, token & 0xff, PULL_RESP]);
    const timeoutMs = this.options.txAckTimeoutMs ?? 5_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingTx.delete(token);
        reject(new Error(`no TX_ACK from gateway ${eui} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingTx.set(token, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send(Buffer.concat([header, body]), gw);
    });
  }

  private send(buf: Buffer, to: { address: string; port: number }): void {
    this.socket?.send(buf, to.port, to.address);
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    for (const p of this.pendingTx.values()) p.reject(new Error("the Semtech UDP adapter stopped"));
    this.pendingTx.clear();
    if (socket !== undefined) await new Promise<void>((r) => socket.close(() => r()));
  }
}
