import type { Baileys, ILogger, SignalDataTypeMap, SignalKeyStore } from './baileys.loader';

type KeyType = keyof SignalDataTypeMap;

/** A process-local Signal key store: enough for virtual phones and throwaway test sessions. */
export function createMemoryKeyStore(): SignalKeyStore {
  const data = new Map<KeyType, Map<string, unknown>>();
  const bucket = (type: KeyType): Map<string, unknown> => {
    let entries = data.get(type);
    if (!entries) {
      entries = new Map();
      data.set(type, entries);
    }
    return entries;
  };
  return {
    get: async <T extends KeyType>(type: T, ids: string[]) => {
      const entries = bucket(type);
      const result: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        if (entries.has(id)) result[id] = entries.get(id) as SignalDataTypeMap[T];
      }
      return result;
    },
    set: async (update) => {
      for (const type of Object.keys(update) as KeyType[]) {
        const entries = bucket(type);
        for (const [id, value] of Object.entries(update[type] ?? {})) {
          if (value === null || value === undefined) entries.delete(id);
          else entries.set(id, value);
        }
      }
    },
    clear: async () => {
      data.clear();
    },
  };
}

/** Baileys 7's Signal repository requires `transaction` on its key store. */
export function createTransactionalMemoryKeyStore(baileys: Baileys, logger: ILogger) {
  return baileys.addTransactionCapability(createMemoryKeyStore(), logger, {
    maxCommitRetries: 1,
    delayBetweenTriesMs: 0,
  });
}
