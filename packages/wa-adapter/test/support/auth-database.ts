import { DataSource } from 'typeorm';
import { WaAuthCredsEntity, WaAuthKeyEntity, WaAuthState1764000000000 } from '../../src';

/** A migrated in-memory SQLite database holding nothing but the WhatsApp auth state. */
export async function openAuthDatabase(): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [WaAuthCredsEntity, WaAuthKeyEntity],
    migrations: [WaAuthState1764000000000],
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}
