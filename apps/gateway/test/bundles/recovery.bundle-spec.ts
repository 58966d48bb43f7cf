// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../runner-crash.e2e-spec';
import '../receipt-recovery.e2e-spec';
