/** A call event as WhatsApp signalled it to this device. */
export interface WaCall {
  callId: string;
  /** The caller (the call's creator), as WhatsApp addressed them (a LID today). */
  from: string;
  callerPn?: string;
  /** `offer`: ringing; `reject`/`accept` (on another of our devices), `terminate` (hung up), `timeout`. */
  status: string;
  video: boolean;
  group: boolean;
  groupJid?: string;
  /** Delivered while we were offline. */
  offline: boolean;
  timestampMs: number;
}

export interface WaCallOps {
  /** Rejects a ringing call; `from` is the caller as the offer named them. */
  rejectCall(callId: string, from: string): Promise<void>;
}
