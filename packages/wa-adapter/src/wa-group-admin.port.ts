import type { WaParticipantResult } from './wa-engine.port';

/** Someone asking to join a group whose joins need an admin's approval. */
export interface WaJoinRequest {
  jid: string;
  phoneJid?: string;
  requestedAtMs?: number;
  method?: string;
}

/** A join request was filed, withdrawn by the requester, or turned down by an admin. */
export interface WaJoinRequestUpdate {
  groupJid: string;
  requester: { jid: string; phoneJid?: string };
  action: 'requested' | 'cancelled' | 'rejected';
  method?: string;
  /** Who acted, when it was not the requester (the admin who rejected). */
  author?: string;
  authorPn?: string;
  timestampMs: number;
}

/** Joining by invite code: the group's JID, and whether an admin still has to approve. */
export interface WaInviteJoin {
  groupJid: string;
  pending: boolean;
}

export interface WaGroupAdminOps {
  /** Undefined while the group has no picture. */
  groupPictureUrl(groupJid: string): Promise<string | undefined>;
  /** Any image the image library reads; WhatsApp gets a 640x640 JPEG. */
  setGroupPicture(groupJid: string, image: Buffer): Promise<void>;
  removeGroupPicture(groupJid: string): Promise<void>;
  groupJoinRequests(groupJid: string): Promise<WaJoinRequest[]>;
  updateGroupJoinRequests(groupJid: string, participants: string[], action: 'approve' | 'reject'): Promise<WaParticipantResult[]>;
  /** Joins by invite code; in a group with join approval this files a request instead. */
  joinByInvite(code: string): Promise<WaInviteJoin>;
}
