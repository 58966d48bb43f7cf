import { randomBytes, randomInt } from 'node:crypto';
import type { Baileys, ILogger, ProtoMessage } from './baileys.loader';
import { APP_STATE_COLLECTIONS, type AppStateCollection, type AppStateStore } from './app-state.store';
import { SandboxError, type AppStateView, type PhoneChatAction } from './sandbox.types';
import { silentLogger } from './silent.logger';

type LTHashState = ReturnType<Baileys['newLTHashState']>;
type ChatModification = Parameters<Baileys['chatModificationToAppPatch']>[0];
type KeyData = { keyData: Uint8Array; fingerprint: { rawId: number; currentIndex: number; deviceIndexes: number[] }; timestamp: number };

interface Entry {
  index: string[];
  value: Record<string, unknown>;
}

/**
 * The phone's side of app state. The phone is a WhatsApp client like any companion: it holds the
 * account's app-state sync key, shares it with each linked device, builds its own patches with
 * Baileys' encoder (so their LT-hash and MACs are what a real client produces) and reads every
 * patch of the collection, its own included, with Baileys' decoder, which checks the MACs. A patch
 * that fails that check is recorded in `failures`, so a test sees a device writing bad patches.
 */
export class PhoneAppState {
  private readonly keyId = randomBytes(6);
  private readonly key: KeyData;
  private readonly states = new Map<AppStateCollection, LTHashState>();
  private readonly entries = new Map<AppStateCollection, Map<string, Entry>>();
  private readonly failures: string[] = [];
  /** Phone writes and reads of the store, one at a time, in order. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly baileys: Baileys,
    private readonly store: AppStateStore,
  ) {
    this.key = {
      keyData: randomBytes(32),
      fingerprint: { rawId: randomInt(1, 2 ** 31), currentIndex: 0, deviceIndexes: [0] },
      timestamp: Date.now(),
    };
  }

  /** The `APP_STATE_SYNC_KEY_SHARE` protocol message the phone sends a newly linked device. */
  keyShare(deviceId: number): ProtoMessage {
    const { proto } = this.baileys;
    this.key.fingerprint.deviceIndexes = [...new Set([...this.key.fingerprint.deviceIndexes, deviceId])];
    return {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE,
        appStateSyncKeyShare: { keys: [{ keyId: { keyId: this.keyId }, keyData: this.key }] },
      },
    };
  }

  /** Builds, encrypts and writes one change; resolves with the collection and its new version. */
  apply(action: PhoneChatAction): Promise<{ collection: AppStateCollection; version: number }> {
    return this.inTurn(async () => {
      const { chatModificationToAppPatch, encodeSyncdPatch, proto } = this.baileys;
      const [modification, jid] = toModification(action);
      const create = chatModificationToAppPatch(modification, jid);
      const name = create.type as AppStateCollection;
      // A companion may write between our read and our write: then read again and rebuild.
      for (let attempt = 0; attempt < 5; attempt++) {
        await this.catchUp();
        const base = this.stateOf(name);
        const { patch } = await encodeSyncdPatch(create, this.keyId.toString('base64'), base, this.getKey);
        const appended = this.store.append(name, base.version, (version) => proto.SyncdPatch.encode({ ...patch, version: { version } }).finish());
        if (appended.ok) {
          await this.catchUp();
          return { collection: name, version: appended.version };
        }
      }
      throw new SandboxError(409, `could not write to ${name}: other devices keep writing`);
    });
  }

  /** Reads what other devices wrote since the phone last looked. */
  sync(): Promise<void> {
    return this.inTurn(() => this.catchUp());
  }

  async view(): Promise<AppStateView> {
    await this.sync();
    return {
      collections: Object.fromEntries(
        APP_STATE_COLLECTIONS.map((name) => [
          name,
          { version: this.stateOf(name).version, entries: [...(this.entries.get(name)?.values() ?? [])].map((entry) => ({ ...entry })) },
        ]),
      ) as AppStateView['collections'],
      failures: [...this.failures],
    };
  }

  private readonly getKey = async (id: string): Promise<KeyData | undefined> =>
    id === this.keyId.toString('base64') ? this.key : undefined;

  private stateOf(name: AppStateCollection): LTHashState {
    let state = this.states.get(name);
    if (!state) {
      state = this.baileys.newLTHashState();
      this.states.set(name, state);
    }
    return state;
  }

  private async catchUp(): Promise<void> {
    const { proto, decodePatches } = this.baileys;
    for (const name of APP_STATE_COLLECTIONS) {
      for (const encoded of this.store.since(name, this.stateOf(name).version)) {
        const patch = proto.SyncdPatch.decode(encoded);
        const version = Number(patch.version?.version ?? 0);
        const removals = (patch.mutations ?? []).map((m) => m.operation === proto.SyncdMutation.SyncdOperation.REMOVE);
        const problems: string[] = [];
        const logger: ILogger = { ...silentLogger, warn: (...args: unknown[]) => void problems.push(String(args[args.length - 1])) };
        try {
          const { state, mutationMap } = await decodePatches(name, [patch], this.stateOf(name), this.getKey, {}, undefined, logger, true);
          this.states.set(name, state);
          const entries = this.entries.get(name) ?? new Map<string, Entry>();
          this.entries.set(name, entries);
          Object.values(mutationMap).forEach((mutation, position) => {
            const index = mutation.index as string[];
            const key = JSON.stringify(index);
            if (removals[position]) entries.delete(key);
            else entries.set(key, { index, value: mutation.syncAction.value ? (proto.SyncActionValue.toObject(mutation.syncAction.value as InstanceType<typeof proto.SyncActionValue>, { longs: Number }) as Record<string, unknown>) : {} });
          });
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
          this.states.set(name, { ...this.stateOf(name), version });
        }
        for (const problem of problems) this.failures.push(`${name} v${version}: ${problem}`);
      }
    }
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work, work);
    this.turn = next.catch(() => undefined);
    return next;
  }
}

/** The sandbox's phone actions as Baileys' chat modifications, to reuse its patch builder. */
function toModification(action: PhoneChatAction): [ChatModification, string] {
  const noMessages = { lastMessages: [] };
  switch (action.type) {
    case 'archive':
      return [{ archive: action.archived, ...noMessages }, action.chat];
    case 'pin':
      return [{ pin: action.pinned }, action.chat];
    case 'mute':
      return [{ mute: action.until }, action.chat];
    case 'markRead':
      return [{ markRead: action.read, ...noMessages }, action.chat];
    case 'star':
      return [{ star: { messages: [{ id: action.messageId, fromMe: action.fromMe }], star: action.starred } }, action.chat];
    case 'delete':
      return [{ delete: true, ...noMessages }, action.chat];
    case 'clear':
      return [{ clear: true, ...noMessages }, action.chat];
    case 'contact':
      return [{ contact: action.fullName === null ? null : { fullName: action.fullName, firstName: action.fullName.split(' ')[0] } }, action.jid];
    case 'labelEdit':
      return [{ addLabel: { id: action.labelId, name: action.name, color: action.color, deleted: action.deleted ?? false } }, ''];
    case 'labelChat':
      return [action.labeled ? { addChatLabel: { labelId: action.labelId } } : { removeChatLabel: { labelId: action.labelId } }, action.chat];
    case 'labelMessage':
      return [
        action.labeled
          ? { addMessageLabel: { labelId: action.labelId, messageId: action.messageId } }
          : { removeMessageLabel: { labelId: action.labelId, messageId: action.messageId } },
        action.chat,
      ];
  }
}
