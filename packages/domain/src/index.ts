export { newId, isId, idTime, idFloor } from './ids';
export {
  CAPABILITIES,
  type Capability,
  isCapability,
  type RoleCapabilityMap,
  DEFAULT_ROLE_CAPABILITIES,
  capabilitiesForRole,
  parseRoleCapabilityMap,
} from './capabilities';
export { ERROR_STATUS, type ErrorCode, type ErrorDetails, isErrorCode, AppError, notFound } from './errors';
export {
  type JidServer,
  type ParsedJid,
  parseJid,
  isJid,
  normalizeJid,
  isGroupJid,
  isLidJid,
  isPhoneJid,
  isPhoneNumber,
  normalizePhoneNumber,
  phoneToJid,
} from './jid';
export {
  ConfigError,
  type Env,
  envString,
  envOptional,
  envInt,
  envBool,
  envEnum,
  envUrl,
  envCidrList,
  envHost,
  type DatabaseTarget,
  parseDatabaseUrl,
  readDatabaseTarget,
  DEFAULT_DATABASE_POOL_SIZE,
} from './config';
export { generateMessageId } from './message-id';
export { WaMessageIds } from './wa-message-ids';
export { AddressPolicy, RefusedAddressError, checkedLookup, cidrProblem } from './address-policy';
export { BoundedSet } from './bounded-set';
export { sha256 } from './sha256';
export { processAlive } from './process-alive';
