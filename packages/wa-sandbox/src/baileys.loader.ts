import type * as BaileysModule from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

export type Baileys = typeof BaileysModule;
export type BinaryNode = BaileysModule.BinaryNode;
export type WAProto = typeof BaileysModule.proto;
export type ProtoMessage = BaileysModule.proto.IMessage;
export type KeyPair = BaileysModule.KeyPair;
export type AuthenticationCreds = BaileysModule.AuthenticationCreds;
export type SignalDataTypeMap = BaileysModule.SignalDataTypeMap;
export type SignalKeyStore = BaileysModule.SignalKeyStore;
export type SignalRepository = BaileysModule.SignalRepositoryWithLIDStore;
export type WASocket = BaileysModule.WASocket;
export type CacheStore = BaileysModule.CacheStore;
export type SocketConfig = BaileysModule.UserFacingSocketConfig;
export type ILogger = BaileysModule.SocketConfig['logger'];
export type WAMessageKey = BaileysModule.proto.IMessageKey;

let loading: Promise<Baileys> | undefined;

/**
 * Baileys is ESM-only while this package compiles to CommonJS; `module: Node16` keeps this a
 * real dynamic import (a static import would become `require`, which Jest on Node 20 rejects).
 */
export function loadBaileys(): Promise<Baileys> {
  loading ??= import('@whiskeysockets/baileys');
  return loading;
}
