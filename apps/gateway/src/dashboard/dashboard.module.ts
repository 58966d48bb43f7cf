import { Module } from '@nestjs/common';
import { join } from 'node:path';
import { DashboardAssets } from './dashboard-assets';
import { DashboardController } from './dashboard.controller';

// apps/gateway/dashboard, both from src/dashboard (tests) and from dist/dashboard (the build).
const ASSETS_DIR = join(__dirname, '..', '..', 'dashboard');

@Module({
  controllers: [DashboardController],
  providers: [{ provide: DashboardAssets, useFactory: () => new DashboardAssets(ASSETS_DIR) }],
})
export class DashboardModule {}
