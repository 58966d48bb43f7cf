import { Controller, Delete, Get, HttpCode, Patch, Put, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  CONTACT_JID_PARAM,
  ContactAboutDto,
  ContactPictureDto,
  PrivacySettingsDto,
  PrivacyUpdate,
  ProfileDto,
  ProfilePictureSet,
  ProfileUpdate,
  RPC_PROFILE,
  type ContactProfilePayload,
  type PrivacySettings,
  type PrivacyUpdateDto,
  type PrivacyUpdatePayload,
  type ProfilePictureSetDto,
  type ProfilePictureSetPayload,
  type ProfileUpdateDto,
  type ProfileUpdatePayload,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MediaPolicy } from '../messages/media.policy';
import { MessagesService } from '../messages/messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

/** Profile calls wait for WhatsApp's server, and a picture for its download first. */
const PROFILE_TIMEOUT_MS = 30_000;

/**
 * Our account's profile (push name, about, picture) and privacy settings, and what WhatsApp
 * shows us of a contact's profile. The session is checked against the caller's org first, so
 * another org's session is a 404 identical to a missing one before any runner is asked.
 */
@ApiTags('profile')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization.')
@Controller('sessions/:id')
export class ProfileController {
  constructor(
    private readonly messages: MessagesService,
    private readonly media: MediaPolicy,
  ) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, PROFILE_TIMEOUT_MS);
  }

  @Get('profile')
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read the account's profile", description: 'The push name, about text and profile picture link as WhatsApp has them. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ProfileDto, description: 'The profile.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getProfile(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ProfileDto> {
    return this.ask<ProfileDto, SessionRef>(p, id, RPC_PROFILE.profileGet, {});
  }

  @Patch('profile')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Change the account's name or about text",
    description:
      'Sets the push name (what contacts see next to your messages; synced to your other devices) and/or the about text, and answers the profile as it is now. ' +
      'Who sees the about text follows the `about` privacy setting. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ProfileDto, description: 'The profile after the change.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  updateProfile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(ProfileUpdate) body: ProfileUpdateDto): Promise<ProfileDto> {
    return this.ask<ProfileDto, ProfileUpdatePayload>(p, id, RPC_PROFILE.profileUpdate, body);
  }

  @Put('profile/picture')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Set the account's profile picture",
    description:
      'From `url` (fetched under the media address rules) or `base64`, any image the server can read (JPEG, PNG, WebP); WhatsApp gets it as a 640x640 JPEG. ' +
      'Who sees it follows the `profilePicture` privacy setting. 400 `validation_error` when it is not a readable image; 413 `payload_too_large` over MEDIA_MAX_BYTES. ' +
      '409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ProfileDto, description: 'The profile with the new picture link.' })
  @ApiErrorResponse(413, ['payload_too_large'], '`payload_too_large`: the image is larger than MEDIA_MAX_BYTES.')
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async setProfilePicture(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(ProfilePictureSet) body: ProfilePictureSetDto): Promise<ProfileDto> {
    const source = await this.media.source({ type: 'image', mimetype: 'image/jpeg', ...body } as Parameters<MediaPolicy['source']>[0]);
    return this.ask<ProfileDto, ProfilePictureSetPayload>(p, id, RPC_PROFILE.profilePictureSet, source);
  }

  @Delete('profile/picture')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: "Remove the account's profile picture", description: 'Idempotent. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async removeProfilePicture(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.ask<unknown, SessionRef>(p, id, RPC_PROFILE.profilePictureRemove, {});
  }

  @Get('privacy')
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read the account's privacy settings", description: "As WhatsApp's server has them now. 409 `session_not_connected` unless the session is connected." })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: PrivacySettingsDto, description: 'The privacy settings.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getPrivacy(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<PrivacySettings> {
    return this.ask<PrivacySettings, SessionRef>(p, id, RPC_PROFILE.privacyGet, {});
  }

  @Patch('privacy')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Change the account's privacy settings",
    description: 'Changes the settings given and answers all of them as they are now. WhatsApp applies them at once to what contacts can see. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: PrivacySettingsDto, description: 'The privacy settings after the change.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  updatePrivacy(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(PrivacyUpdate) body: PrivacyUpdateDto): Promise<PrivacySettings> {
    return this.ask<PrivacySettings, PrivacyUpdatePayload>(p, id, RPC_PROFILE.privacyUpdate, { settings: body as PrivacySettings });
  }

  @Get('contacts/:jid/picture')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "A contact's profile picture link",
    description: "`url` is `null` when the contact has no picture or their privacy settings hide it from this account (WhatsApp does not say which). 409 `session_not_connected` unless the session is connected.",
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactPictureDto, description: 'The picture link, or null.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getContactPicture(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<ContactPictureDto> {
    return this.ask<ContactPictureDto, ContactProfilePayload>(p, id, RPC_PROFILE.contactPicture, { jid });
  }

  @Get('contacts/:jid/about')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "A contact's about text",
    description: '`about` is `null` when there is none or it is hidden; `hidden` says when the contact\'s privacy settings keep it from this account. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactAboutDto, description: 'The about text.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getContactAbout(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<ContactAboutDto> {
    return this.ask<ContactAboutDto, ContactProfilePayload>(p, id, RPC_PROFILE.contactAbout, { jid });
  }
}
