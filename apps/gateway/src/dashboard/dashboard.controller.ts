import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@wa/auth';
import type { FastifyReply } from 'fastify';
import { DASHBOARD_CSP, DashboardAssets, type DashboardAsset } from './dashboard-assets';

/**
 * The browser dashboard: static files only, so they need no token; every API call the page
 * makes carries the API key the user signed in with. Not part of the API document.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  constructor(private readonly assets: DashboardAssets) {}

  @Get()
  index(@Res() reply: FastifyReply): void {
    send(reply, this.assets.get('index.html'));
  }

  @Get(':asset')
  asset(@Param('asset') name: string, @Res() reply: FastifyReply): void {
    send(reply, this.assets.get(name === '' ? 'index.html' : name));
  }
}

function send(reply: FastifyReply, asset: DashboardAsset): void {
  void reply
    .header('content-type', asset.contentType)
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    // The files change only with a new release; revalidating keeps an upgrade from mixing versions.
    .header('cache-control', 'no-cache')
    .send(asset.body);
}
