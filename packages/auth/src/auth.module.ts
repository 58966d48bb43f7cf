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
import { RequestAuthenticator } from './request.authenticator';

/** How the gateway supplies its `ApiKeyLookup`: any provider form except the token, which is fixed. */
export type ApiKeyLookupProvider =
  | Omit<ClassProvider<ApiKeyLookup>, 'provide'>
  | Omit<ValueProvider<ApiKeyLookup>, 'provide'>
  | Omit<FactoryProvider<ApiKeyLookup>, 'provide'>
  | Omit<ExistingProvider<ApiKeyLookup>, 'provide'>;

interface AuthModuleWiring {
  /** Modules that export what `apiKeyLookup` or `useFactory` injects. */
  readonly imports?: ModuleMetadata['imports'];
  readonly apiKeyLookup: ApiKeyLookupProvider;
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
    inject: [AUTH_MODULE_OPTIONS],
    useFactory: (options: AuthModuleOptions) => new AuthRateLimiter(options.rateLimits),
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
    const { imports, apiKeyLookup, ...settings } = options;
    return AuthModule.build(imports, apiKeyLookup, { provide: AUTH_MODULE_OPTIONS, useValue: settings });
  }

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return AuthModule.build(options.imports, options.apiKeyLookup, {
      provide: AUTH_MODULE_OPTIONS,
      inject: options.inject ?? [],
      useFactory: options.useFactory,
    });
  }

  private static build(
    imports: ModuleMetadata['imports'],
    apiKeyLookup: ApiKeyLookupProvider,
    optionsProvider: Provider,
  ): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: imports ?? [],
      providers: [optionsProvider, { provide: API_KEY_LOOKUP, ...apiKeyLookup } as Provider, ...services],
      exports: exported,
    };
  }
}
