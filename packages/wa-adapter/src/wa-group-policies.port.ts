/** Who may add members, whether joining by link needs approval, and disappearing messages. */
export interface WaGroupPolicies {
  memberAddMode: 'admin_add' | 'all_member_add';
  joinApproval: boolean;
  /** Disappearing messages in seconds; 0: off. */
  ephemeralSeconds: number;
}

export interface WaGroupPolicyOps {
  groupPolicies(groupJid: string): Promise<WaGroupPolicies>;
  /** Changes the given policies, one WhatsApp query each. */
  setGroupPolicies(groupJid: string, change: Partial<WaGroupPolicies>): Promise<void>;
}
