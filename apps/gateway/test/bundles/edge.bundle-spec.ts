// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../foundation.e2e-spec';
import '../http-edge.e2e-spec';
import '../metrics.e2e-spec';
import '../log-secrets.e2e-spec';
