import type { WebSocket } from 'ws';
import type { Baileys, BinaryNode, KeyPair, WAProto } from './baileys.loader';
import { NoiseResponder } from './noise.handshake';

export type ClientPayload = ReturnType<WAProto['ClientPayload']['decode']>;

export interface ConnectionEvents {
  onAuthenticated(connection: DeviceConnection, payload: ClientPayload, clientStatic: Buffer): Promise<void>;
  onNode(connection: DeviceConnection, node: BinaryNode): Promise<void>;
  onClosed(connection: DeviceConnection): void;
}

const INTRO_LENGTH = 4;

/**
 * One client websocket: WhatsApp framing (intro header, then 3-byte big-endian lengths), the
 * Noise handshake, then binary nodes in both directions.
 */
export class DeviceConnection {
  private readonly noise: NoiseResponder;
  private inbound = Buffer.alloc(0);
  private stage: 'intro' | 'hello' | 'finish' | 'open' = 'intro';
  private closed = false;
  private processing: Promise<void> = Promise.resolve();

  constructor(
    private readonly baileys: Baileys,
    private readonly ws: WebSocket,
    serverStatic: KeyPair,
    private readonly certificateChain: Uint8Array,
    private readonly events: ConnectionEvents,
  ) {
    this.noise = new NoiseResponder(baileys, serverStatic, baileys.NOISE_WA_HEADER);
    ws.on('message', (data: Buffer) => {
      // Frames must be handled in arrival order: decryption counters depend on it.
      this.processing = this.processing.then(() => this.receive(data)).catch(() => this.drop());
    });
    ws.on('close', () => this.markClosed());
    ws.on('error', () => this.drop());
  }

  get isOpen(): boolean {
    return !this.closed && this.stage === 'open';
  }

  async send(node: BinaryNode): Promise<void> {
    if (this.closed) return;
    const encoded = this.baileys.encodeBinaryNode(node);
    this.writeFrame(this.noise.encrypt(encoded));
  }

  /** Ends the stream like WhatsApp does: a `stream:error`, then the socket closes. */
  async streamError(code: string | undefined, reason?: BinaryNode): Promise<void> {
    await this.send({ tag: 'stream:error', attrs: code ? { code } : {}, ...(reason ? { content: [reason] } : {}) });
    this.close();
  }

  async failure(reason: string): Promise<void> {
    await this.send({ tag: 'failure', attrs: { reason } });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.ws.close();
    this.markClosed();
  }

  /** Simulates a network drop: no stream error, no close frame. */
  drop(): void {
    if (this.closed) return;
    this.ws.terminate();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.onClosed(this);
  }

  private writeFrame(data: Uint8Array): void {
    const frame = Buffer.alloc(3 + data.length);
    frame.writeUIntBE(data.length, 0, 3);
    frame.set(data, 3);
    this.ws.send(frame);
  }

  private async receive(data: Buffer): Promise<void> {
    this.inbound = this.inbound.length ? Buffer.concat([this.inbound, data]) : Buffer.from(data);
    if (this.stage === 'intro') {
      if (this.inbound.length < INTRO_LENGTH) return;
      this.inbound = this.inbound.subarray(INTRO_LENGTH);
      this.stage = 'hello';
    }
    while (this.inbound.length >= 3 && !this.closed) {
      const size = this.inbound.readUIntBE(0, 3);
      if (this.inbound.length < size + 3) return;
      const frame = this.inbound.subarray(3, size + 3);
      this.inbound = this.inbound.subarray(size + 3);
      await this.handleFrame(frame);
    }
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    const { proto } = this.baileys;
    if (this.stage === 'hello') {
      const hello = proto.HandshakeMessage.decode(frame).clientHello;
      if (!hello?.ephemeral) throw new Error('expected ClientHello');
      this.writeFrame(this.noise.serverHello(hello.ephemeral, this.certificateChain));
      this.stage = 'finish';
      return;
    }
    if (this.stage === 'finish') {
      const finish = proto.HandshakeMessage.decode(frame).clientFinish;
      if (!finish?.static || !finish.payload) throw new Error('expected ClientFinish');
      const { clientStatic, payload } = this.noise.clientFinish(finish.static, finish.payload);
      this.stage = 'open';
      await this.events.onAuthenticated(this, proto.ClientPayload.decode(payload), clientStatic);
      return;
    }
    const node = await this.baileys.decodeBinaryNode(this.noise.decrypt(frame));
    // A stanza the server cannot act on is answered (or ignored) on its own, as on WhatsApp: the
    // connection stays up. Only a broken frame or handshake ends it.
    await this.events.onNode(this, node).catch(() => undefined);
  }
}
