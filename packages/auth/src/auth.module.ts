import {
  Module,
  type ClassProvider,
  type DynamicModule,
  type ExistingProvider,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
  type ValueProvider,
} from '@nestjs/common';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth.options';
import { API_KEY_LOOKUP, type ApiKeyLookup } from './api-key-lookup.port';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { AuthGuard } from './auth.guard';
import { AuthRateLimiter } from './auth-rate.limiter';
import { BearerAuthenticator } from './bearer.authenticator';
import { JwtAuthenticator } from './jwt.authenticator';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store.port';
import { RequestAuthenticator } from './request.authenticator';

/** How the gateway supplies its `ApiKeyLookup`: any provider form except the token, which is fixed. */
export type ApiKeyLookupProvider =
  | Omit<ClassProvider<ApiKeyLookup>, 'provide'>
  | Omit<ValueProvider<ApiKeyLookup>, 'provide'>
  | Omit<FactoryProvider<ApiKeyLookup>, 'provide'>
  | Omit<ExistingProvider<ApiKeyLookup>, 'provide'>;

/** How the gateway supplies the store of shared rate limits; a factory may answer `undefined` (limits per process). */
export type RateLimitStoreProvider =
  | Omit<ClassProvider<RateLimitStore>, 'provide'>
  | Omit<ValueProvider<RateLimitStore>, 'provide'>
  | Omit<FactoryProvider<RateLimitStore | undefined>, 'provide'>
  | Omit<ExistingProvider<RateLimitStore>, 'provide'>;

interface AuthModuleWiring {
  /** Modules that export what `apiKeyLookup`, `rateLimitStore` or `useFactory` injects. */
  readonly imports?: ModuleMetadata['imports'];
  readonly apiKeyLookup: ApiKeyLookupProvider;
  /** Leave out to keep every rate limit in the process (one gateway). */
  readonly rateLimitStore?: RateLimitStoreProvider;
}

export interface AuthModuleAsyncOptions extends AuthModuleWiring {
  readonly inject?: FactoryProvider['inject'];
  readonly useFactory: (...args: any[]) => AuthModuleOptions | Promise<AuthModuleOptions>;
}

const services: Provider[] = [
  {
    provide: ApiKeyAuthenticator,
    inject: [API_KEY_LOOKUP, AUTH_MODULE_OPTIONS],
    useFactory: (lookup: ApiKeyLookup, options: AuthModuleOptions) => new ApiKeyAuthenticator(lookup, options.apiKeys),
  },
  {
    provide: BearerAuthenticator,
    inject: [ApiKeyAuthenticator, AUTH_MODULE_OPTIONS],
    useFactory: (apiKeys: ApiKeyAuthenticator, options: AuthModuleOptions) =>
      new BearerAuthenticator(apiKeys, options.jwt ? new JwtAuthenticator(options.jwt) : undefined),
  },
  {
    provide: AuthRateLimiter,
    inject: [AUTH_MODULE_OPTIONS, RATE_LIMIT_STORE],
    useFactory: (options: AuthModuleOptions, store: RateLimitStore | undefined) => new AuthRateLimiter(options.rateLimits, Date.now, store),
  },
  RequestAuthenticator,
  AuthGuard,
];

const exported = [AuthGuard, RequestAuthenticator, ApiKeyAuthenticator, BearerAuthenticator, AuthRateLimiter, AUTH_MODULE_OPTIONS];

/**
 * Authentication for the gateway. Global, so that feature modules can inject
 * `ApiKeyAuthenticator` (to `invalidate` a revoked key) without importing it; the gateway
 * registers `AuthGuard` as `APP_GUARD` itself so that the order of global guards stays its call.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions & AuthModuleWiring): DynamicModule {
    const { imports, apiKeyLookup, rateLimitStore, ...settings } = options;
    return AuthModule.build(imports, apiKeyLookup, rateLimitStore, { provide: AUTH_MODULE_OPTIONS, useValue: settings });
  }

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return AuthModule.build(options.imports, options.apiKeyLookup, options.rateLimitStore, {
      provide: AUTH_MODULE_OPTIONS,
      inject: options.inject ?? [],
      useFactory: options.useFactory,
    });
  }

  private static build(
    imports: ModuleMetadata['imports'],
    apiKeyLookup: ApiKeyLookupProvider,
    rateLimitStore: RateLimitStoreProvider | undefined,
    optionsProvider: Provider,
  ): DynamicModule {
    // Not `useValue: undefined`: Nest reads an undefined value as "no value given".
    const store = { provide: RATE_LIMIT_STORE, ...(rateLimitStore ?? { useFactory: () => undefined }) } as Provider;
    return {
      module: AuthModule,
      global: true,
      imports: imports ?? [],
      providers: [optionsProvider, { provide: API_KEY_LOOKUP, ...apiKeyLookup } as Provider, store, ...services],
      exports: exported,
    };
  }
}
