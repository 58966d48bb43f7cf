// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../api-keys.e2e-spec';
import '../config-exit.e2e-spec';
import '../migrations.e2e-spec';
import '../rate-limit-store.e2e-spec';
import '../auth.e2e-spec';
