import type { BaileysModule } from './baileys.loader';
import type { WaGroupPolicies, WaGroupPolicyOps } from './wa-group-policies.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;

/** Group policies read from WhatsApp's group metadata and set with Baileys' group queries. */
export class BaileysGroupPolicies implements WaGroupPolicyOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly changed: (groupJid: string) => Promise<void>,
  ) {}

  async groupPolicies(groupJid: string): Promise<WaGroupPolicies> {
    const metadata = await this.socket().groupMetadata(groupJid);
    return {
      memberAddMode: metadata.memberAddMode ? 'all_member_add' : 'admin_add',
      joinApproval: !!metadata.joinApprovalMode,
      ephemeralSeconds: metadata.ephemeralDuration ?? 0,
    };
  }

  async setGroupPolicies(groupJid: string, change: Partial<WaGroupPolicies>): Promise<void> {
    const sock = this.socket();
    try {
      if (change.memberAddMode !== undefined) await sock.groupMemberAddMode(groupJid, change.memberAddMode);
      if (change.joinApproval !== undefined) await sock.groupJoinApprovalMode(groupJid, change.joinApproval ? 'on' : 'off');
      if (change.ephemeralSeconds !== undefined) await sock.groupToggleEphemeral(groupJid, change.ephemeralSeconds);
    } finally {
      await this.changed(groupJid);
    }
  }
}
