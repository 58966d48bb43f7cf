import type { Baileys, BinaryNode } from './baileys.loader';
import { snapshotNode } from './app-state.snapshot';
import { isAppStateCollection, type AppStateCollection, type AppStateStore } from './app-state.store';

/** Patches per collection in one answer; a client asks again while `has_more_patches` is true. */
const PATCHES_PER_ANSWER = 100;

export interface AppStateSyncAnswer {
  collections: BinaryNode[];
  /** Collections a patch was written to: every other device of the account must hear of them. */
  written: Array<{ name: AppStateCollection; version: number }>;
}

const childrenOf = (node: BinaryNode | undefined, tag: string): BinaryNode[] =>
  Array.isArray(node?.content) ? node.content.filter((item) => item.tag === tag) : [];

/**
 * Answers a `w:sync:app:state` iq as WhatsApp does. A `<collection version=N>` without a patch
 * asks for what came after N: the patches, oldest first, each carrying its version, with
 * `has_more_patches` when the answer is cut. With `return_snapshot="true"` (a device syncing from
 * scratch, or one whose state broke) and a snapshot newer than N, the answer starts with that
 * snapshot, uploaded to the media hosts (`putBlob`), and goes on with the patches after it.
 * A `<collection version=N><patch/>` writes a patch built on N: it becomes N+1 unless another
 * device wrote first, which is refused with a 409 `conflict` on that collection so the writer
 * fetches and rebuilds.
 */
export function answerAppStateSync(
  baileys: Baileys,
  store: AppStateStore,
  sync: BinaryNode | undefined,
  putBlob: (encrypted: Buffer) => { directPath: string },
): AppStateSyncAnswer {
  const { proto } = baileys;
  const written: AppStateSyncAnswer['written'] = [];
  const collections = childrenOf(sync, 'collection').map((collection): BinaryNode => {
    const name = collection.attrs.name ?? '';
    const version = Number(collection.attrs.version ?? '0');
    if (!isAppStateCollection(name) || !Number.isInteger(version) || version < 0) {
      return { tag: 'collection', attrs: { name, type: 'error' }, content: [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }] };
    }
    const patches = childrenOf(collection, 'patch');
    if (patches.length) {
      let latest = version;
      for (const patch of patches) {
        const content = patch.content;
        if (!(content instanceof Uint8Array)) {
          return { tag: 'collection', attrs: { name, type: 'error' }, content: [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }] };
        }
        const decoded = proto.SyncdPatch.decode(content);
        const result = store.append(name, latest, (next) => proto.SyncdPatch.encode({ ...decoded, version: { version: next } }).finish());
        if (!result.ok) {
          return {
            tag: 'collection',
            attrs: { name, type: 'error', version: String(result.version) },
            content: [{ tag: 'error', attrs: { code: '409', text: 'conflict' } }],
          };
        }
        latest = result.version;
        written.push({ name, version: latest });
      }
      return { tag: 'collection', attrs: { name, version: String(latest) } };
    }
    const stored = collection.attrs.return_snapshot === 'true' ? store.snapshot(name) : undefined;
    const snapshot = stored && stored.version > version ? stored : undefined;
    const from = snapshot?.version ?? version;
    const missing = store.since(name, from);
    const page = missing.slice(0, PATCHES_PER_ANSWER);
    const hasMore = missing.length > page.length;
    const content: BinaryNode[] = [
      ...(snapshot ? [snapshotNode(proto, snapshot.snapshot, putBlob)] : []),
      ...(page.length ? [{ tag: 'patches', attrs: {}, content: page.map((patch) => ({ tag: 'patch', attrs: {}, content: patch })) }] : []),
    ];
    return {
      tag: 'collection',
      attrs: { name, version: String(from + page.length), ...(hasMore ? { has_more_patches: 'true' } : {}) },
      content: content.length ? content : undefined,
    };
  });
  return { collections, written };
}
