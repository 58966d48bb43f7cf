import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC_PROFILE,
  type ContactAboutResult,
  type ContactPictureResult,
  type ContactProfilePayload,
  type PrivacySettings,
  type PrivacyUpdatePayload,
  type ProfilePictureSetPayload,
  type ProfileResult,
  type ProfileUpdatePayload,
  type SessionRef,
} from '@wa/contracts/runtime';
import { ProfileService } from './profile.service';

/** The runner's half of the profile RPC: one handler per RPC_PROFILE pattern. */
@Controller()
export class ProfileController {
  constructor(private readonly profile: ProfileService) {}

  @MessagePattern(RPC_PROFILE.profileGet)
  get(@Payload() p: SessionRef): Promise<ProfileResult> {
    return this.profile.get(p);
  }

  @MessagePattern(RPC_PROFILE.profileUpdate)
  update(@Payload() p: ProfileUpdatePayload): Promise<ProfileResult> {
    return this.profile.update(p);
  }

  @MessagePattern(RPC_PROFILE.profilePictureSet)
  setPicture(@Payload() p: ProfilePictureSetPayload): Promise<ProfileResult> {
    return this.profile.setPicture(p);
  }

  @MessagePattern(RPC_PROFILE.profilePictureRemove)
  removePicture(@Payload() p: SessionRef): Promise<Record<string, never>> {
    return this.profile.removePicture(p);
  }

  @MessagePattern(RPC_PROFILE.privacyGet)
  privacy(@Payload() p: SessionRef): Promise<PrivacySettings> {
    return this.profile.privacy(p);
  }

  @MessagePattern(RPC_PROFILE.privacyUpdate)
  updatePrivacy(@Payload() p: PrivacyUpdatePayload): Promise<PrivacySettings> {
    return this.profile.updatePrivacy(p);
  }

  @MessagePattern(RPC_PROFILE.contactPicture)
  contactPicture(@Payload() p: ContactProfilePayload): Promise<ContactPictureResult> {
    return this.profile.contactPicture(p);
  }

  @MessagePattern(RPC_PROFILE.contactAbout)
  contactAbout(@Payload() p: ContactProfilePayload): Promise<ContactAboutResult> {
    return this.profile.contactAbout(p);
  }
}
