import type { Baileys, BinaryNode } from './baileys.loader';
import { encryptMedia } from './media.crypto';

type Proto = Baileys['proto'];

/**
 * A collection's records at the version of its last patch, as WhatsApp's server compacts it
 * without the keys: the latest SET of each index (by its index MAC), minus the removed ones. The
 * LT-hash of those records' value MACs is the collection's LT-hash at that version, so the last
 * patch's `snapshotMac` (which its writer computed over that LT-hash, the version and the
 * collection name) is the snapshot's MAC; a client that recomputes it sees any tampering.
 */
export function compactPatches(proto: Proto, patches: Uint8Array[]): Uint8Array {
  const records = new Map<string, InstanceType<Proto['SyncdRecord']>>();
  let last: InstanceType<Proto['SyncdPatch']> | undefined;
  for (const encoded of patches) {
    last = proto.SyncdPatch.decode(encoded);
    for (const mutation of last.mutations ?? []) {
      const record = mutation.record;
      if (!record?.index?.blob) continue;
      const index = Buffer.from(record.index.blob).toString('base64');
      records.delete(index);
      if (mutation.operation !== proto.SyncdMutation.SyncdOperation.REMOVE) records.set(index, proto.SyncdRecord.create(record));
    }
  }
  return proto.SyncdSnapshot.encode({
    version: { version: patches.length },
    records: [...records.values()],
    mac: last?.snapshotMac ?? new Uint8Array(32),
    keyId: last?.keyId ?? { id: new Uint8Array(0) },
  }).finish();
}

/**
 * The `<snapshot>` child of a sync answer: WhatsApp puts the snapshot on its media hosts,
 * encrypted like any media file under the "App State" keys, and names it with an
 * `ExternalBlobReference` that the client downloads (Baileys' `downloadExternalBlob`).
 */
export function snapshotNode(proto: Proto, snapshot: Uint8Array, put: (encrypted: Buffer) => { directPath: string }): BinaryNode {
  const media = encryptMedia(Buffer.from(snapshot), 'app-state');
  const { directPath } = put(media.encrypted);
  const reference = proto.ExternalBlobReference.encode({
    mediaKey: media.mediaKey,
    directPath,
    handle: '',
    fileSizeBytes: media.fileLength,
    fileSha256: media.fileSha256,
    fileEncSha256: media.fileEncSha256,
  }).finish();
  return { tag: 'snapshot', attrs: {}, content: reference };
}
